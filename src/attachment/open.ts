import type { AttachmentRef } from '../../protocol/v1/blob.js';
import { fromBase64Url, ready } from '../crypto/sodium.js';
import { LiaisonError } from '../errors.js';
import { sniffType } from './sniff.js';

/** Reads chunk `index` of a blob (over the gateway, or from the store for the hub). */
export type ChunkReader = (blobId: string, index: number) => Promise<Uint8Array>;

/** What is opened of an attachment: its type by sniffing, and whether the sender said otherwise. */
export interface OpenedAttachment {
  /** The media type from the content's magic bytes (never from `declaredType`). */
  readonly type: string;
  /** True when the sender declared a type the content is not. */
  readonly typeMismatch: boolean;
  readonly bytes: Uint8Array;
}

type Ref = Pick<AttachmentRef, 'blobId' | 'key' | 'header' | 'hash' | 'chunks' | 'size' | 'padded'>;

/** Whether every byte is zero (the padding after the file), in time independent of where. */
const zeros = (bytes: Uint8Array) => bytes.reduce((any, b) => any | b, 0) === 0;

const invalid = (reason: string, details?: Record<string, unknown>) =>
  new LiaisonError('ATTACHMENT_INVALID', `attachment refused: ${reason}`, details);

/**
 * Fetches and decrypts an attachment chunk by chunk, yielding plaintext as each chunk verifies
 * (secretstream authenticates every chunk and its place). Throws ATTACHMENT_INVALID when a chunk
 * does not decrypt, the stream ends early or goes on past TAG_FINAL, the size differs, the
 * padding after the file is not zeros, or the BLAKE2b-256 of the ciphertext is not the one in the envelope: a caller writing to a file then
 * deletes what it wrote.
 */
export async function* openAttachmentChunks(
  ref: Ref,
  read: ChunkReader,
): AsyncGenerator<Uint8Array> {
  const sodium = await ready;
  const key = fromBase64Url(ref.key);
  const header = fromBase64Url(ref.header);
  const expected = fromBase64Url(ref.hash);
  const state = sodium.crypto_secretstream_xchacha20poly1305_init_pull(header, key);
  const hashing = sodium.crypto_generichash_init(null, 32);
  const FINAL = sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL;
  // The blob holds the file, then zeros up to `padded` (PROTOCOL.md §8.2): only the file is given.
  const padded = ref.padded ?? ref.size;
  if (padded < ref.size) throw invalid('padded to less than its size');
  let size = 0;
  for (let index = 0; index < ref.chunks; index++) {
    const cipher = await read(ref.blobId, index);
    sodium.crypto_generichash_update(hashing, cipher);
    let opened: { message: Uint8Array; tag: number } | false;
    try {
      opened = sodium.crypto_secretstream_xchacha20poly1305_pull(state, cipher, null);
    } catch {
      opened = false;
    }
    if (!opened) throw invalid('a chunk does not decrypt', { index });
    const last = index === ref.chunks - 1;
    if ((opened.tag === FINAL) !== last)
      throw invalid('the stream ends in the wrong place', { index });
    const start = size;
    size += opened.message.byteLength;
    if (size > padded) throw invalid('larger than its stated size');
    const file = opened.message.subarray(
      0,
      Math.max(0, Math.min(ref.size - start, opened.message.byteLength)),
    );
    if (!zeros(opened.message.subarray(file.byteLength)))
      throw invalid('the padding is not zeros', { index });
    if (last) {
      const hash = sodium.crypto_generichash_final(hashing, 32);
      if (!sodium.memcmp(hash, expected)) throw invalid('the hash is not the one in the envelope');
      if (size !== padded) throw invalid('not its stated size');
    }
    if (file.byteLength > 0 || ref.size === 0) yield file;
  }
}

/**
 * Fetches, verifies and decrypts a whole attachment into memory (for files an app shows at
 * once), and tells its type by sniffing.
 *
 * @example const { bytes, type } = await openAttachment(ref, read); // type: 'image/jpeg'
 */
export async function openAttachment(
  ref: Ref & Pick<AttachmentRef, 'declaredType'>,
  read: ChunkReader,
): Promise<OpenedAttachment> {
  const bytes = new Uint8Array(ref.size);
  let at = 0;
  for await (const part of openAttachmentChunks(ref, read)) {
    bytes.set(part, at);
    at += part.byteLength;
  }
  const type = sniffType(bytes.subarray(0, 16));
  const declared = ref.declaredType;
  return { type, typeMismatch: declared !== undefined && declared !== type, bytes };
}
