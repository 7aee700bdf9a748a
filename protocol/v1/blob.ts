import { z } from 'zod';
import { base64UrlOf, Uuid, WireError } from './primitives.js';

/**
 * Plaintext bytes per secretstream chunk (PROTOCOL.md §8.2); the last chunk may be shorter.
 * 64 bytes under 256 KiB: the encrypted chunk and Redis's string header then fit one 256 KiB
 * allocation (a full 256 KiB chunk takes a 320 KiB one: 25 % more memory per blob).
 */
export const ATTACHMENT_CHUNK_BYTES = 256 * 1024 - 64;
/** What crypto_secretstream_xchacha20poly1305 adds to each chunk (tag byte and MAC). */
export const SECRETSTREAM_ABYTES = 17;
/** The largest stored chunk: a full plaintext chunk, encrypted. */
export const MAX_BLOB_CHUNK_BYTES = ATTACHMENT_CHUNK_BYTES + SECRETSTREAM_ABYTES;
/** The largest attachment (plaintext) one blob carries. */
export const MAX_ATTACHMENT_BYTES = 32 * 1024 * 1024;
/** Most chunks one blob has (a 32 MiB file in chunks of ATTACHMENT_CHUNK_BYTES: 129). */
export const MAX_BLOB_CHUNKS = Math.ceil(MAX_ATTACHMENT_BYTES / ATTACHMENT_CHUNK_BYTES);
/** Most attachments one chat line or alert carries. */
export const MAX_ATTACHMENTS = 8;

/**
 * Bytes as a Socket.IO binary attachment (a Buffer in Node, an ArrayBuffer or Uint8Array in the
 * browser), never base64 in JSON. JSON Schema cannot say this: it is documented as
 * `contentEncoding: binary` (json-schema.ts).
 */
export const BinaryChunk = z
  .custom<Uint8Array>(
    (v) => v instanceof Uint8Array || v instanceof ArrayBuffer,
    'a binary chunk (Socket.IO binary attachment)',
  )
  .transform((v) => (v instanceof Uint8Array ? v : new Uint8Array(v)))
  .refine((v) => v.byteLength >= SECRETSTREAM_ABYTES && v.byteLength <= MAX_BLOB_CHUNK_BYTES, {
    message: `a chunk is ${SECRETSTREAM_ABYTES}..${MAX_BLOB_CHUNK_BYTES} bytes`,
  })
  .meta({ binary: true });

/** A blob's id, chosen by the uploader (a random UUID). */
export const BlobId = Uuid;
const ChunkIndex = z
  .int()
  .min(0)
  .max(MAX_BLOB_CHUNKS - 1);
/** BLAKE2b-256 of the blob: every ciphertext chunk, in order (PROTOCOL.md §8.2). */
export const BlobHash = base64UrlOf(32);

// As events.ts's ackOf (which imports this file's events into its table).
const failure = z.strictObject({ ok: z.literal(false), error: WireError });
const ackOf = <T extends z.ZodRawShape>(shape: T) =>
  z.discriminatedUnion('ok', [z.strictObject({ ok: z.literal(true), ...shape }), failure]);

/** `blob:put` — chunk `index` of the uploader's blob; the first chunk (0) creates the blob. */
export const BlobPutRequest = z.strictObject({
  blobId: BlobId,
  index: ChunkIndex,
  chunk: BinaryChunk,
});
export const BlobPutAck = ackOf({
  received: z.int().min(0).describe('chunks stored so far (0..received-1); the next to put'),
});

/** `blob:status` — how far an upload got (to resume it), or whether a blob is there to fetch. */
export const BlobStatusRequest = z.strictObject({ blobId: BlobId });
export const BlobStatusAck = ackOf({
  received: z.int().min(0),
  sealed: z.boolean(),
  expiresAt: z.int().min(0).describe('ms since Unix epoch: stored with the inbox retention'),
});

/** `blob:seal` — the upload is complete; the gateway checks the count, the size and the hash. */
export const BlobSealRequest = z.strictObject({
  blobId: BlobId,
  chunks: z.int().min(1).max(MAX_BLOB_CHUNKS),
  size: z
    .int()
    .min(SECRETSTREAM_ABYTES)
    .max(MAX_ATTACHMENT_BYTES + MAX_BLOB_CHUNKS * SECRETSTREAM_ABYTES)
    .describe('bytes stored: the ciphertext chunks together'),
  hash: BlobHash,
});
export const BlobSealAck = ackOf({ sealed: z.literal(true), expiresAt: z.int().min(0) });

/** `blob:get` — chunk `index` of a sealed blob, for its uploader's office and offices linked to it. */
export const BlobGetRequest = z.strictObject({ blobId: BlobId, index: ChunkIndex });
export const BlobGetAck = ackOf({ chunk: BinaryChunk });

/**
 * An attachment as it travels inside the encrypted payload (chat and alert bodies): what a
 * recipient needs to fetch, check and decrypt the blob. The key never leaves the ciphertext.
 */
export const AttachmentRef = z.strictObject({
  blobId: BlobId,
  name: z.string().min(1).max(255),
  size: z.int().min(0).max(MAX_ATTACHMENT_BYTES).describe('plaintext bytes'),
  padded: z
    .int()
    .min(0)
    .max(MAX_ATTACHMENT_BYTES)
    .optional()
    .describe('bytes the blob decrypts to: the file, then zero bytes up to this (at least size)'),
  declaredType: z
    .string()
    .max(100)
    .optional()
    .describe("the sender's word for the media type; readers sniff the content, never trust it"),
  key: base64UrlOf(32).describe('the secretstream key, fresh for this attachment'),
  header: base64UrlOf(24).describe('the secretstream header'),
  hash: BlobHash,
  chunks: z.int().min(1).max(MAX_BLOB_CHUNKS),
  thumbnail: z
    .strictObject({
      blobId: BlobId,
      size: z.int().min(0).max(ATTACHMENT_CHUNK_BYTES),
      padded: z.int().min(0).max(ATTACHMENT_CHUNK_BYTES).optional(),
      key: base64UrlOf(32),
      header: base64UrlOf(24),
      hash: BlobHash,
      chunks: z.literal(1),
    })
    .optional()
    .describe("a small preview the sender's device made, encrypted the same way (one chunk)"),
});
export type AttachmentRef = z.infer<typeof AttachmentRef>;
