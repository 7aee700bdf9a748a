import sodium from 'libsodium-wrappers';

/**
 * libsodium, initialised. Every crypto function awaits this once; afterwards the calls are
 * synchronous.
 */
export const ready: Promise<typeof sodium> = sodium.ready.then(() => sodium);

/** Bytes → unpadded base64url, the wire encoding of every byte string. */
export const toBase64Url = (bytes: Uint8Array): string =>
  sodium.to_base64(bytes, sodium.base64_variants.URLSAFE_NO_PADDING);

/** Unpadded base64url → bytes; throws on anything else (callers map that to their error code). */
export const fromBase64Url = (text: string): Uint8Array =>
  sodium.from_base64(text, sodium.base64_variants.URLSAFE_NO_PADDING);

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

export const utf8 = (text: string): Uint8Array => utf8Encoder.encode(text);
export const fromUtf8 = (bytes: Uint8Array): string => utf8Decoder.decode(bytes);

export { sodium };
