import { z } from 'zod';
import { Role, Signed } from './certificate.js';
import {
  DeviceId,
  Ed25519PublicKey,
  KeyId,
  OfficeId,
  Timestamp,
  X25519PublicKey,
} from './primitives.js';

/**
 * What a device asks the authority to certify (PROTOCOL.md §5.5). The device signs it with the
 * new signing key itself (domain `liaison/v1/enrolment-request`): that signature is the proof of
 * possession, and the X25519 key is bound into what is signed, so neither key can be swapped.
 */
export const EnrolmentRequestPayload = z.strictObject({
  v: z.literal(1),
  type: z.literal('liaison.enrolment-request'),
  officeId: OfficeId,
  deviceId: DeviceId,
  role: Role,
  keyId: KeyId,
  signingKey: Ed25519PublicKey,
  encryptionKey: X25519PublicKey,
  /** Days of validity asked for; the authority may grant fewer. */
  validityDays: z.int().min(1).max(3650),
  createdAt: Timestamp,
});
export type EnrolmentRequestPayload = z.infer<typeof EnrolmentRequestPayload>;

/** The request file a device hands to CARICC: the signed payload, nothing secret. */
export const EnrolmentRequest = z.strictObject({
  v: z.literal(1),
  type: z.literal('liaison.enrolment-request'),
  request: Signed,
});
export type EnrolmentRequest = z.infer<typeof EnrolmentRequest>;

/** What `liaison admin approve` hands back: the certificate and the statement that publishes it. */
export const EnrolmentApproval = z.strictObject({
  v: z.literal(1),
  type: z.literal('liaison.enrolment-approval'),
  certificate: Signed,
  statement: Signed,
});
export type EnrolmentApproval = z.infer<typeof EnrolmentApproval>;
