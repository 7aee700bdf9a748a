import { z } from 'zod';
import {
  Base64Url,
  Country,
  DeviceId,
  Ed25519PublicKey,
  Ed25519Signature,
  KeyId,
  OfficeId,
  Timestamp,
  X25519PublicKey,
} from './primitives.js';

/**
 * An object signed by the authority: `payload` is the exact UTF-8 JSON that was signed, so nobody
 * has to re-serialise JSON to check a signature (see PROTOCOL.md §Signed objects).
 */
export const Signed = z.strictObject({
  payload: Base64Url.min(1).max(16_384),
  signature: Ed25519Signature,
});
export type Signed = z.infer<typeof Signed>;

/** What an endpoint certificate is for. Analysts are CARICC staff reading the hub's record. */
export const Role = z.enum(['device', 'hub', 'analyst']);
export type Role = z.infer<typeof Role>;

/** The signed content of a certificate. */
export const CertificatePayload = z.strictObject({
  v: z.literal(1),
  type: z.literal('liaison.certificate'),
  role: Role,
  officeId: OfficeId,
  country: Country,
  deviceId: DeviceId,
  keyId: KeyId,
  signingKey: Ed25519PublicKey,
  encryptionKey: X25519PublicKey,
  notBefore: Timestamp,
  notAfter: Timestamp,
  issuer: KeyId,
});
export type CertificatePayload = z.infer<typeof CertificatePayload>;

/** The authority's public key as clients pin it. */
export const AuthorityPublicKey = z.strictObject({
  v: z.literal(1),
  type: z.literal('liaison.authority'),
  name: z.string().min(1).max(100),
  keyId: KeyId,
  signingKey: Ed25519PublicKey,
});
export type AuthorityPublicKey = z.infer<typeof AuthorityPublicKey>;
