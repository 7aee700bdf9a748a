import { z } from 'zod';
import { Signed } from './certificate.js';
import { Country, DeviceId, KeyId, OfficeId, Timestamp, Uuid } from './primitives.js';

const common = {
  v: z.literal(1),
  type: z.literal('liaison.statement'),
  id: Uuid,
  issuedAt: Timestamp,
  issuer: KeyId,
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

/** A device (every key, when `keyId` is absent) is revoked: nothing it signed is trusted. */
export const DeviceRevoked = z.strictObject({
  ...common,
  kind: z.literal('device.revoked'),
  deviceId: DeviceId,
  keyId: KeyId.optional(),
  reason: z.enum(['compromised', 'lost', 'decommissioned', 'superseded', 'other']),
});

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
