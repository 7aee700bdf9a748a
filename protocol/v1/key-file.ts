import { z } from 'zod';
import { Signed } from './certificate.js';
import { Base64Url, base64UrlOf, DeviceId, KeyId } from './primitives.js';

/**
 * Argon2id (libsodium `crypto_pwhash`, ALG_ARGON2ID13) limits a key file may state. The floor is
 * libsodium's INTERACTIVE level, the ceiling its SENSITIVE level: a reader refuses anything outside
 * before hashing, so a doctored file cannot make it spend a terabyte of memory.
 */
export const KDF_LIMITS = {
  interactive: { opslimit: 2, memlimit: 67_108_864 },
  moderate: { opslimit: 3, memlimit: 268_435_456 },
  sensitive: { opslimit: 4, memlimit: 1_073_741_824 },
} as const;
export type KdfLevel = keyof typeof KDF_LIMITS;

/**
 * A private key file sealed under a passphrase (PROTOCOL.md §5.4): the public header in clear,
 * the seeds in `ciphertext` (XChaCha20-Poly1305 with the header as associated data, under a key
 * Argon2id derives from the passphrase). A device's certificate rides along outside the AEAD:
 * it is public and the authority signed it, and a reader checks it names the keys inside.
 */
export const SealedKeyFile = z.strictObject({
  v: z.literal(1),
  type: z.literal('liaison.sealed-key'),
  holds: z.enum(['device', 'authority']),
  /** The device id, or the authority's name. */
  id: z.string().min(1).max(200),
  keyId: KeyId,
  kdf: z.strictObject({
    name: z.literal('argon2id13'),
    opslimit: z
      .int()
      .min(KDF_LIMITS.interactive.opslimit)
      .max(KDF_LIMITS.sensitive.opslimit * 4),
    memlimit: z.int().min(KDF_LIMITS.interactive.memlimit).max(KDF_LIMITS.sensitive.memlimit),
    salt: base64UrlOf(16),
  }),
  aead: z.strictObject({ name: z.literal('xchacha20poly1305-ietf'), nonce: base64UrlOf(24) }),
  /** 64 bytes of seeds (device: signing ‖ encryption; authority: 32 bytes) plus the 16-byte tag. */
  ciphertext: Base64Url.min(1).max(200),
  certificate: Signed.optional(),
});
export type SealedKeyFile = z.infer<typeof SealedKeyFile>;

/** A device key file's plaintext form: only with --insecure-plaintext (the development set). */
export const PlaintextDeviceKeyFile = z.strictObject({
  v: z.literal(1),
  type: z.literal('liaison.device-key'),
  deviceId: DeviceId,
  keyId: Base64Url,
  signingSeed: Base64Url,
  encryptionSeed: Base64Url,
  certificate: Signed.optional(),
});
export type PlaintextDeviceKeyFile = z.infer<typeof PlaintextDeviceKeyFile>;

/** The authority key file's plaintext form: only with --insecure-plaintext. */
export const PlaintextAuthorityKeyFile = z.strictObject({
  v: z.literal(1),
  type: z.literal('liaison.authority-key'),
  name: z.string().min(1).max(200),
  keyId: Base64Url,
  signingSeed: Base64Url,
});
export type PlaintextAuthorityKeyFile = z.infer<typeof PlaintextAuthorityKeyFile>;
