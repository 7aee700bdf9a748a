import sodium from 'libsodium-wrappers';
import { isCanonicalBase64Url } from '../../protocol/v1/primitives.js';

/**
 * libsodium, initialised. Every crypto function awaits this once; afterwards the calls are
 * synchronous.
 */
export const ready: Promise<typeof sodium> = sodium.ready.then(() => sodium);

// On Node, Buffer encodes base64url natively: no copy into WebAssembly memory and back. The
// browser has no Buffer and uses libsodium. Both refuse exactly the same texts (see the test).
/** The part of Node's Buffer used here (the browser build has no Node types). */
interface NodeBufferClass {
  from(
    bytes: ArrayBufferLike,
    offset?: number,
    length?: number,
  ): {
    toString(encoding: 'base64url'): string;
    write(text: string, encoding: 'base64url'): number;
  };
  from(text: string, encoding: 'base64url'): Uint8Array;
  allocUnsafe(size: number): Uint8Array;
}
const NodeBuffer = (globalThis as { Buffer?: NodeBufferClass }).Buffer;

/** Bytes → unpadded base64url, the wire encoding of every byte string. */
export const toBase64Url: (bytes: Uint8Array) => string = NodeBuffer
  ? (bytes) =>
      NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url')
  : (bytes) => sodium.to_base64(bytes, sodium.base64_variants.URLSAFE_NO_PADDING);

/** Unpadded base64url → bytes; throws on anything else (callers map that to their error code). */
export const fromBase64Url: (text: string) => Uint8Array = NodeBuffer
  ? (text) => {
      // Buffer skips what it cannot read; libsodium refuses it, and so does this.
      if (!isCanonicalBase64Url(text)) throw new TypeError('invalid base64url');
      // Decoded into memory of its own: Buffer.from would slice its shared 8 KiB pool, and a
      // kept 32-byte key would pin a whole slab (3 KiB a device in a large directory).
      const bytes = new Uint8Array((text.length * 3) >> 2);
      NodeBuffer.from(bytes.buffer).write(text, 'base64url');
      return bytes;
    }
  : (text) => sodium.from_base64(text, sodium.base64_variants.URLSAFE_NO_PADDING);

/**
 * fromBase64Url for bytes that are read and let go of at once (never kept): on Node small ones
 * share Buffer's pooled memory instead of an allocation each, which a large directory's start
 * makes by the hundred thousand.
 */
export const fromBase64UrlBriefly: (text: string) => Uint8Array = NodeBuffer
  ? (text) => {
      if (!isCanonicalBase64Url(text)) throw new TypeError('invalid base64url');
      return NodeBuffer.from(text, 'base64url');
    }
  : fromBase64Url;

/**
 * Room for bytes that are read and let go of at once, like fromBase64UrlBriefly's: on Node small
 * ones come from Buffer's pool. Not zeroed: the caller writes what it returns.
 */
export const briefBytes: (size: number) => Uint8Array = NodeBuffer
  ? (size) => NodeBuffer.allocUnsafe(size)
  : (size) => new Uint8Array(size);

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

export const utf8 = (text: string): Uint8Array => utf8Encoder.encode(text);
export const fromUtf8 = (bytes: Uint8Array): string => utf8Decoder.decode(bytes);

export { sodium };
