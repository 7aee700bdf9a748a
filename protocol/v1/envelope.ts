import { z } from 'zod';
import {
  Base64Url,
  base64UrlOf,
  DeviceId,
  Ed25519Signature,
  KeyId,
  OfficeId,
  Timestamp,
  Uuid,
} from './primitives.js';

/** Largest envelope the gateway relays, counted as its JSON encoding in UTF-8 bytes. */
export const MAX_ENVELOPE_BYTES = 64 * 1024;
/** Largest number of recipient keys in one envelope (devices of the offices plus the hub). */
export const MAX_RECIPIENTS = 64;

export const EnvelopeKind = z.enum(['chat', 'alert', 'receipt', 'alert-ack']);
export type EnvelopeKind = z.infer<typeof EnvelopeKind>;

/** How urgent an alert is, most urgent first. */
export const Precedence = z.enum(['FLASH', 'IMMEDIATE', 'PRIORITY', 'ROUTINE']);
export type Precedence = z.infer<typeof Precedence>;

/** Who signed the envelope: the device and the key id of the certificate used. */
export const SenderRef = z.strictObject({ deviceId: DeviceId, keyId: KeyId });

/** The envelope header's protocol version (PROTOCOL.md §1). */
export const ENVELOPE_VERSION = 4;

/** Largest envelope counter: counters are JSON numbers, exact up to 2^53 − 1. */
export const MAX_COUNTER = Number.MAX_SAFE_INTEGER;

/** A position in the directory's statement log, as the sender saw it (PROTOCOL.md §5.3). */
export const DirectoryPosition = z.strictObject({
  version: z.int().min(0),
  hash: base64UrlOf(32).describe('hash of the statement at `version` (32 zero bytes for 0)'),
});
export type DirectoryPosition = z.infer<typeof DirectoryPosition>;

/**
 * The visible header: what the gateway needs to route and prioritise, nothing more. It is the
 * AEAD associated data and is covered by the signature.
 */
export const EnvelopeHeader = z
  .strictObject({
    v: z.literal(ENVELOPE_VERSION),
    id: Uuid,
    kind: EnvelopeKind,
    precedence: Precedence.optional().describe('present exactly when kind is alert'),
    sender: SenderRef,
    to: z.array(OfficeId).min(1).max(8),
    createdAt: Timestamp,
    counter: z
      .int()
      .min(1)
      .max(MAX_COUNTER)
      .describe(
        'the sender key’s count of envelopes to this set of offices (`to`), from 1: replays and gaps show',
      ),
    directory: DirectoryPosition.describe('the directory head the sender sealed against'),
    keyCommitment: base64UrlOf(32).describe(
      'BLAKE2b-256 commitment to the content key: every reader opens with the same key or refuses',
    ),
  })
  .refine((h) => (h.kind === 'alert') === (h.precedence !== undefined), {
    message: 'precedence is present exactly when kind is alert',
    path: ['precedence'],
  })
  .refine((h) => new Set(h.to).size === h.to.length, {
    message: 'recipient offices must be distinct',
    path: ['to'],
  });
export type EnvelopeHeader = z.infer<typeof EnvelopeHeader>;

/**
 * The content key sealed (crypto_box_seal) to one recipient device: to the signed prekey
 * `prekeyId` of its certified key `keyId` (PROTOCOL.md §5.6, forward secrecy), or, only when that
 * device has published no prekey valid at `createdAt`, to the certified key itself.
 */
export const WrappedKey = z.strictObject({
  deviceId: DeviceId,
  keyId: KeyId,
  prekeyId: KeyId.optional().describe('the signed prekey sealed to; absent: the certified key'),
  wrappedKey: base64UrlOf(80),
});
export type WrappedKey = z.infer<typeof WrappedKey>;

/** An end-to-end encrypted, signed envelope as it crosses the wire. */
export const Envelope = z.strictObject({
  header: EnvelopeHeader,
  nonce: base64UrlOf(24),
  ciphertext: Base64Url.min(22).max(Math.ceil((MAX_ENVELOPE_BYTES * 4) / 3)),
  recipients: z
    .array(WrappedKey)
    .min(1)
    .max(MAX_RECIPIENTS)
    .refine((list) => new Set(list.map((r) => r.deviceId)).size === list.length, {
      message: 'one wrapped key per device',
    }),
  signature: Ed25519Signature,
});
export type Envelope = z.infer<typeof Envelope>;
