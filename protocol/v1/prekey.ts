import { z } from 'zod';
import { base64UrlOf, DeviceId, KeyId, Timestamp, X25519PublicKey } from './primitives.js';

/** How long one prekey is valid (PROTOCOL.md §5.6): `notAfter = notBefore + PREKEY_LIFETIME_MS`. */
export const PREKEY_LIFETIME_MS = 24 * 60 * 60 * 1000;
/** How far ahead a device publishes its prekeys. */
export const PREKEY_AHEAD_MS = 7 * PREKEY_LIFETIME_MS;

/**
 * A short-lived X25519 key a device (or the hub) publishes, signed with its Ed25519 identity key
 * (domain `liaison/v1/prekey`, PROTOCOL.md §5.6). Senders seal to it instead of the static key, and
 * the device deletes its private half soon after `notAfter`: that is the forward secrecy.
 */
export const PrekeyPayload = z.strictObject({
  v: z.literal(1),
  type: z.literal('liaison.prekey'),
  deviceId: DeviceId,
  /** The certified identity key that signs this prekey. */
  keyId: KeyId,
  /** `base64url(BLAKE2b-128(encode(["liaison/v1/prekey-id", publicKey])))` */
  prekeyId: KeyId,
  publicKey: X25519PublicKey,
  /** Valid from `notBefore` (inclusive) to `notAfter` (exclusive), exactly 24 h. */
  notBefore: Timestamp,
  notAfter: Timestamp,
  issuedAt: Timestamp,
});
export type PrekeyPayload = z.infer<typeof PrekeyPayload>;

/**
 * A device's prekey chains as it keeps them between runs (PROTOCOL.md §5.6, "Prekey state"),
 * sealed at rest: per identity key, the day number of the oldest prekey still held and that
 * day's chain key.
 */
export const PrekeyState = z.strictObject({
  v: z.literal(1),
  chains: z
    .array(
      z.strictObject({
        keyId: KeyId,
        day: z.int().min(0),
        chainKey: base64UrlOf(32),
      }),
    )
    .max(16),
});
export type PrekeyState = z.infer<typeof PrekeyState>;

/**
 * CARICC's archive public key (PROTOCOL.md §5.6, "The hub"): the hub seals each retired prekey's
 * private half to it. The secret half stays on CARICC's offline archive workstation.
 */
export const ArchiveKeyFile = z.strictObject({
  v: z.literal(1),
  type: z.literal('liaison.archive-key'),
  publicKey: X25519PublicKey,
});
export type ArchiveKeyFile = z.infer<typeof ArchiveKeyFile>;
