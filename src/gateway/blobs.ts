import type { z } from 'zod';
import {
  BlobGetRequest,
  BlobPutRequest,
  BlobSealRequest,
  BlobStatusRequest,
  MAX_ATTACHMENT_BYTES,
  MAX_BLOB_CHUNKS,
  SECRETSTREAM_ABYTES,
} from '../../protocol/v1/blob.js';
import { HUB_OFFICE_ID } from '../../protocol/v1/primitives.js';
import { fromBase64Url, ready } from '../crypto/sodium.js';
import type { Directory } from '../directory/directory.js';
import type { BlobState, BlobStore } from '../engine/blob-store.js';
import { LiaisonError } from '../errors.js';
import type { Session } from '../runtime/auth.js';

/** Default bytes of blobs one office may have stored at a time (ATTACHMENT_QUOTA_MB). */
export const DEFAULT_ATTACHMENT_QUOTA_BYTES = 1024 * 1024 * 1024;
/** Most live blobs one office may have (files and thumbnails), whatever their size. */
export const MAX_BLOBS_PER_OFFICE = 10_000;
/** Most ciphertext one blob holds: the largest attachment and each chunk's overhead. */
export const MAX_BLOB_BYTES = MAX_ATTACHMENT_BYTES + MAX_BLOB_CHUNKS * SECRETSTREAM_ABYTES;

type Handle = <S extends z.ZodType>(
  event: string,
  schema: S | null,
  run: (request: z.infer<S>) => Promise<Record<string, unknown>>,
) => void;

export interface BlobContext {
  readonly blobs: BlobStore;
  readonly directory: () => Directory;
  readonly session: Session;
  readonly quotaBytes: number;
  /** Counts the bytes stored and served (liaison_blob_bytes_total). */
  readonly counted: (direction: 'in' | 'out', bytes: number) => void;
}

/**
 * Who may read a blob: its uploader's office, the offices linked to it (the recipients of the
 * envelope that names it are among them), and the hub. The gateway cannot see which envelope
 * names a blob (that is inside the ciphertext); the blob is ciphertext under a key only the
 * envelope's recipients hold. Anyone else is told the blob does not exist.
 */
function mayRead(state: BlobState, office: string, directory: Directory) {
  return (
    state.owner === office || office === HUB_OFFICE_ID || directory.isLinked(state.owner, office)
  );
}

/**
 * The attachment events (PROTOCOL.md §8.2): `blob:put` chunks in order, `blob:status` to resume,
 * `blob:seal` once all are stored (count, size and BLAKE2b-256 checked against what is stored),
 * `blob:get` a chunk of a sealed blob.
 */
export function serveBlobs(handle: Handle, context: BlobContext): void {
  const { blobs, session } = context;
  const office = session.officeId;
  // One put, one seal and one get at a time per socket (the SDK awaits each ack): what one socket
  // can make this process hold is a chunk each way, not as many as it can send.
  const busy = new Set<string>();
  const oneAtATime = <T>(event: string, run: () => Promise<T>): Promise<T> => {
    if (busy.has(event)) {
      return Promise.reject(
        new LiaisonError('RATE_LIMITED', `one ${event} at a time: wait for its answer`, {
          inFlight: 1,
        }),
      );
    }
    busy.add(event);
    return run().finally(() => busy.delete(event));
  };

  handle('blob:put', BlobPutRequest, ({ blobId, index, chunk }) =>
    oneAtATime('blob:put', async () => {
      const received = await blobs.put({
        blobId,
        owner: office,
        index,
        chunk,
        maxBytes: MAX_BLOB_BYTES,
        quotaBytes: context.quotaBytes,
        maxBlobs: MAX_BLOBS_PER_OFFICE,
      });
      if (received === index + 1) context.counted('in', chunk.byteLength);
      return { received };
    }),
  );

  handle('blob:status', BlobStatusRequest, async ({ blobId }) => {
    const state = await blobs.status(blobId);
    // Another office sees a blob only once it is sealed (and only if it may read it).
    if (!state || !mayRead(state, office, context.directory())) {
      throw new LiaisonError('BLOB_NOT_FOUND');
    }
    if (state.owner !== office && !state.sealed) throw new LiaisonError('BLOB_NOT_FOUND');
    return { received: state.received, sealed: state.sealed, expiresAt: state.expiresAt };
  });

  handle('blob:seal', BlobSealRequest, (request) => oneAtATime('blob:seal', () => seal(request)));
  const seal = async ({ blobId, chunks, size, hash }: z.infer<typeof BlobSealRequest>) => {
    const state = await blobs.status(blobId);
    if (!state || state.owner !== office) throw new LiaisonError('BLOB_NOT_FOUND');
    if (state.received !== chunks || state.bytes !== size) {
      throw new LiaisonError('BLOB_INVALID', 'the chunks or bytes stored are not those named', {
        received: state.received,
        bytes: state.bytes,
      });
    }
    const sodium = await ready;
    // Sealed before (its answer was lost): answered from the hash it was sealed with. Reading
    // the blob back again would let anyone asking turn a small request into 32 MiB of reads.
    if (state.sealed) {
      if (
        state.hash === undefined ||
        !sodium.memcmp(fromBase64Url(state.hash), fromBase64Url(hash))
      )
        throw new LiaisonError('BLOB_INVALID', 'the blob was sealed with another hash');
      return { sealed: true, expiresAt: state.expiresAt };
    }
    // What the recipients will check, checked here too: a broken upload is refused now, not
    // found out by every recipient later.
    const hashing = sodium.crypto_generichash_init(null, 32);
    for (let index = 0; index < chunks; index++) {
      const chunk = await blobs.get(blobId, index);
      if (!chunk) throw new LiaisonError('BLOB_NOT_FOUND', 'the blob expired while sealing');
      sodium.crypto_generichash_update(hashing, chunk);
    }
    if (!sodium.memcmp(sodium.crypto_generichash_final(hashing, 32), fromBase64Url(hash))) {
      // Its chunks can never change: the upload is useless. Dropped, so asking again costs no
      // reads, and its bytes go back to the quota; the uploader starts a new blob.
      await blobs.discard(blobId, office);
      throw new LiaisonError('BLOB_INVALID', 'the hash is not that of the stored chunks');
    }
    const sealed = await blobs.seal(blobId, office, chunks, hash);
    return { sealed: true, expiresAt: sealed.expiresAt };
  };

  handle('blob:get', BlobGetRequest, (request) => oneAtATime('blob:get', () => get(request)));
  const get = async ({ blobId, index }: z.infer<typeof BlobGetRequest>) => {
    const state = await blobs.status(blobId);
    if (!state?.sealed || !mayRead(state, office, context.directory())) {
      throw new LiaisonError('BLOB_NOT_FOUND');
    }
    const chunk = index < state.received ? await blobs.get(blobId, index) : undefined;
    if (!chunk)
      throw new LiaisonError('BLOB_NOT_FOUND', 'no such chunk', { chunks: state.received });
    context.counted('out', chunk.byteLength);
    return { chunk };
  };
}
