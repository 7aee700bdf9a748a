import { ATTACHMENT_CHUNK_BYTES, MAX_ATTACHMENT_BYTES } from '../../protocol/v1/blob.js';
import { padme } from '../crypto/padme.js';
import { ready } from '../crypto/sodium.js';
import { LiaisonError } from '../errors.js';

/** What a file can be given as: a Node stream, an async iterable of bytes, or bytes. */
export type ByteSource = AsyncIterable<Uint8Array> | Iterable<Uint8Array> | Uint8Array;

/** What is known of a sealed attachment once its last chunk was encrypted. */
export interface SealedAttachment {
  readonly key: Uint8Array;
  readonly header: Uint8Array;
  /** The file's bytes. */
  readonly size: number;
  /** Bytes encrypted: the file, then zero bytes up to Padmé's length (PROTOCOL.md §8.2). */
  readonly padded: number;
  readonly chunks: number;
  /** Ciphertext bytes (the blob's size). */
  readonly stored: number;
  /** BLAKE2b-256 of the ciphertext chunks, in order. */
  readonly hash: Uint8Array;
}

/** How far a file is padded: Padmé's length of its size, never past `limit` (nor below the size). */
export const paddedSize = (size: number, limit: number): number =>
  Math.max(size, Math.min(padme(size), limit));

/**
 * The source, then zero bytes up to `paddedSize(total, padLimit)` (none if `padLimit` is 0), in
 * pieces of ATTACHMENT_CHUNK_BYTES (the last shorter; an empty file is one empty piece), one held
 * at a time. `counted.size` is the source's length once the last piece is out.
 */
async function* pieces(
  source: ByteSource,
  padLimit: number,
  counted: { size: number },
): AsyncGenerator<Uint8Array> {
  const input: AsyncIterable<Uint8Array> | Iterable<Uint8Array> =
    source instanceof Uint8Array ? [source] : source;
  let buffer = new Uint8Array(ATTACHMENT_CHUNK_BYTES);
  let filled = 0;
  let total = 0;
  for await (const part of input) {
    if (!(part instanceof Uint8Array))
      throw new TypeError('the source must yield Uint8Array chunks');
    total += part.byteLength;
    if (total > MAX_ATTACHMENT_BYTES) {
      throw new LiaisonError('PAYLOAD_TOO_LARGE', 'the file is larger than an attachment may be', {
        limit: MAX_ATTACHMENT_BYTES,
      });
    }
    let at = 0;
    while (at < part.byteLength) {
      const take = Math.min(part.byteLength - at, ATTACHMENT_CHUNK_BYTES - filled);
      buffer.set(part.subarray(at, at + take), filled);
      filled += take;
      at += take;
      if (filled === ATTACHMENT_CHUNK_BYTES) {
        yield buffer;
        buffer = new Uint8Array(ATTACHMENT_CHUNK_BYTES);
        filled = 0;
      }
    }
  }
  counted.size = total;
  // Zeros: a fresh buffer is zero-filled, so padding only advances `filled`.
  let padding = padLimit > 0 ? paddedSize(total, padLimit) - total : 0;
  while (padding > 0) {
    const take = Math.min(padding, ATTACHMENT_CHUNK_BYTES - filled);
    filled += take;
    padding -= take;
    total += take;
    if (filled === ATTACHMENT_CHUNK_BYTES && padding > 0) {
      yield buffer;
      buffer = new Uint8Array(ATTACHMENT_CHUNK_BYTES);
      filled = 0;
    }
  }
  if (filled > 0 || total === 0) yield buffer.subarray(0, filled);
}

/**
 * Encrypts a file chunk by chunk with crypto_secretstream_xchacha20poly1305 under a fresh key,
 * padded with zeros to Padmé's length so the blob's size does not tell the file's exactly
 * (PROTOCOL.md §8.2): yields each ciphertext chunk as it is made (never the whole file), hashing
 * them on the way; `result()` is ready once the generator is done.
 *
 * @example
 * const sealer = await sealAttachment(createReadStream('photo.jpg'));
 * for await (const chunk of sealer.chunks) await upload(chunk);
 * const { key, header, hash } = sealer.result();
 */
export async function sealAttachment(
  source: ByteSource,
  /** The most the file is padded to (PROTOCOL.md §8.2); 0: not padded. */
  padLimit: number = MAX_ATTACHMENT_BYTES,
) {
  const sodium = await ready;
  const key = sodium.crypto_secretstream_xchacha20poly1305_keygen();
  const { state, header } = sodium.crypto_secretstream_xchacha20poly1305_init_push(key);
  const hashing = sodium.crypto_generichash_init(null, 32);
  let sealed: SealedAttachment | undefined;

  async function* chunks(): AsyncGenerator<Uint8Array> {
    const counted = { size: 0 };
    let padded = 0;
    let count = 0;
    let stored = 0;
    // One piece of lookahead: the last one is pushed with TAG_FINAL.
    let held: Uint8Array | undefined;
    const push = (piece: Uint8Array, last: boolean) => {
      const tag = last
        ? sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL
        : sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
      const cipher = sodium.crypto_secretstream_xchacha20poly1305_push(state, piece, null, tag);
      sodium.crypto_generichash_update(hashing, cipher);
      padded += piece.byteLength;
      stored += cipher.byteLength;
      count += 1;
      return cipher;
    };
    for await (const piece of pieces(source, padLimit, counted)) {
      if (held) yield push(held, false);
      held = piece;
    }
    if (held) yield push(held, true);
    sealed = {
      key,
      header,
      size: counted.size,
      padded,
      chunks: count,
      stored,
      hash: sodium.crypto_generichash_final(hashing, 32),
    };
  }

  return {
    chunks: chunks(),
    /** The key, header, sizes and hash: throws until every chunk was taken. */
    result(): SealedAttachment {
      if (!sealed) throw new TypeError('the attachment is not sealed until every chunk is taken');
      return sealed;
    },
  };
}
