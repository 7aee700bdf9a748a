import { z } from 'zod';
import { Signed } from './certificate.js';
import { base64UrlOf, Country, DeviceId, KeyId, OfficeId, Timestamp, Uuid } from './primitives.js';

/** BLAKE2b-256 of a statement (PROTOCOL.md §5.2, _The directory log_); 32 zero bytes before the first. */
export const StatementHash = base64UrlOf(32);

const common = {
  v: z.literal(1),
  type: z.literal('liaison.statement'),
  id: Uuid,
  issuedAt: Timestamp,
  issuer: KeyId,
  seq: z.int().min(1).describe('position in the directory log, from 1, without holes'),
  prev: StatementHash.describe('hash of the statement at seq − 1 (32 zero bytes for seq 1)'),
};

/** Two distinct offices, in ascending order, so a link has one spelling. */
const OfficePair = z
  .tuple([OfficeId, OfficeId])
  .refine(([a, b]) => a < b, 'offices must be distinct and in ascending order');

export const OfficeRegistered = z.strictObject({
  ...common,
  kind: z.literal('office.registered'),
  officeId: OfficeId,
  country: Country,
  name: z.string().min(1).max(200),
  bcp: z.string().min(1).max(200).describe('border crossing point the office sits at'),
});

export const LinkCreated = z.strictObject({
  ...common,
  kind: z.literal('link.created'),
  offices: OfficePair,
});

export const LinkRemoved = z.strictObject({
  ...common,
  kind: z.literal('link.removed'),
  offices: OfficePair,
});

/** A certificate enters the directory: a new device, the hub or an analyst. */
export const DeviceEnrolled = z.strictObject({
  ...common,
  kind: z.literal('device.enrolled'),
  certificate: Signed,
});

/** A device's new key replaces `previousKeyId`, which signs nothing created after `issuedAt`. */
export const DeviceKeyRotated = z.strictObject({
  ...common,
  kind: z.literal('device.key-rotated'),
  certificate: Signed,
  previousKeyId: KeyId,
});

/**
 * A device (every key, when `keyId` is absent) is revoked from `compromisedAt` on: what it signed
 * and the gateway accepted before then stays trusted, nothing after (PROTOCOL.md §5.2).
 */
export const DeviceRevoked = z.strictObject({
  ...common,
  kind: z.literal('device.revoked'),
  deviceId: DeviceId,
  keyId: KeyId.optional(),
  reason: z.enum(['compromised', 'lost', 'decommissioned', 'superseded', 'other']),
  compromisedAt: Timestamp.optional().describe(
    'the earliest time the key may have been in other hands; absent: all time for compromised, lost and other, the revocation itself for decommissioned and superseded',
  ),
});
export type DeviceRevoked = z.infer<typeof DeviceRevoked>;

/** The signed content of a directory statement. */
export const StatementPayload = z.discriminatedUnion('kind', [
  OfficeRegistered,
  LinkCreated,
  LinkRemoved,
  DeviceEnrolled,
  DeviceKeyRotated,
  DeviceRevoked,
]);
export type StatementPayload = z.infer<typeof StatementPayload>;
export type StatementKind = StatementPayload['kind'];

/**
 * The authority's signed word on how far the directory log goes: its version (the last seq), the
 * hash of that statement, and until when a client may rely on it without a newer head.
 */
export const DirectoryHeadPayload = z.strictObject({
  v: z.literal(1),
  type: z.literal('liaison.directory-head'),
  issuer: KeyId,
  version: z.int().min(0),
  hash: StatementHash.describe('hash of the statement at `version` (32 zero bytes for 0)'),
  issuedAt: Timestamp,
  expiresAt: Timestamp,
});
export type DirectoryHeadPayload = z.infer<typeof DirectoryHeadPayload>;
