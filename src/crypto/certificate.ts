import {
  AuthorityPublicKey,
  CertificatePayload,
  type Role,
  type Signed,
} from '../../protocol/v1/certificate.js';
import { type Country, HUB_OFFICE_ID, officeOfDevice } from '../../protocol/v1/primitives.js';
import { LiaisonError } from '../errors.js';
import { type AuthorityKeys, authorityKeyId, deviceKeyId } from './keys.js';
import { type DecodedSigned, openSigned, signObject } from './signed.js';
import { fromBase64Url, ready, toBase64Url } from './sodium.js';

/** The authority's public key as a client pins it: checked once, then trusted. */
export interface PinnedAuthority {
  readonly name: string;
  readonly keyId: string;
  readonly signingPublicKey: Uint8Array;
}

/** Reads a published authority key (e.g. keys/dev/authority.pub.json) into a pin. */
export async function pinAuthority(published: unknown): Promise<PinnedAuthority> {
  await ready;
  const parsed = AuthorityPublicKey.safeParse(published);
  if (!parsed.success) throw new LiaisonError('CERT_INVALID', 'not an authority public key');
  const signingPublicKey = fromBase64Url(parsed.data.signingKey);
  if (authorityKeyId(signingPublicKey) !== parsed.data.keyId) {
    throw new LiaisonError('CERT_INVALID', 'authority key id does not match its key');
  }
  return { name: parsed.data.name, keyId: parsed.data.keyId, signingPublicKey };
}

/** The published form of an authority key. */
export const publishAuthority = (authority: AuthorityKeys, name: string): AuthorityPublicKey => ({
  v: 1,
  type: 'liaison.authority',
  name,
  keyId: authority.keyId,
  signingKey: toBase64Url(authority.signingPublicKey),
});

export interface CertificateRequest {
  readonly role: Role;
  readonly deviceId: string;
  readonly country: Country;
  readonly signingPublicKey: Uint8Array;
  readonly encryptionPublicKey: Uint8Array;
  readonly notBefore: number;
  readonly notAfter: number;
}

/** The authority certifies a device's public keys for a period. */
export async function issueCertificate(
  authority: AuthorityKeys,
  request: CertificateRequest,
): Promise<Signed> {
  await ready;
  const payload: CertificatePayload = {
    v: 1,
    type: 'liaison.certificate',
    role: request.role,
    officeId: officeOfDevice(request.deviceId),
    country: request.country,
    deviceId: request.deviceId,
    keyId: deviceKeyId(request.signingPublicKey, request.encryptionPublicKey),
    signingKey: toBase64Url(request.signingPublicKey),
    encryptionKey: toBase64Url(request.encryptionPublicKey),
    notBefore: request.notBefore,
    notAfter: request.notAfter,
    issuer: authority.keyId,
  };
  const checked = CertificatePayload.safeParse(payload);
  if (!checked.success || !isConsistent(checked.data)) {
    throw new TypeError(`bad certificate request for ${request.deviceId}`);
  }
  return signObject('liaison/v1/certificate', payload, authority.signingSecretKey);
}

/** A certificate whose signature chains to the pinned authority, with its keys decoded. */
export interface Certificate extends CertificatePayload {
  readonly signingPublicKey: Uint8Array;
  readonly encryptionPublicKey: Uint8Array;
}

/**
 * Verifies a certificate against the pinned authority: signature, schema, and that its ids, role,
 * country and key id agree with each other. Validity in time is `checkValidity`'s job, because
 * the time that matters depends on the use (now for a token, creation time for an envelope).
 * `decoded` (see openSigned) spares decoding it again.
 */
export function verifyCertificate(
  signed: Signed,
  authority: PinnedAuthority,
  decoded?: DecodedSigned,
): Certificate {
  const json = openSigned(
    'liaison/v1/certificate',
    signed,
    authority.signingPublicKey,
    { invalid: 'CERT_INVALID', untrusted: 'CERT_UNTRUSTED' },
    decoded,
  );
  const parsed = CertificatePayload.safeParse(json);
  if (!parsed.success) throw new LiaisonError('CERT_INVALID', 'certificate does not match schema');
  const cert = parsed.data;
  if (cert.issuer !== authority.keyId) throw new LiaisonError('CERT_UNTRUSTED');
  if (!isConsistent(cert)) throw new LiaisonError('CERT_INVALID', 'certificate is inconsistent');
  const signingPublicKey = fromBase64Url(cert.signingKey);
  const encryptionPublicKey = fromBase64Url(cert.encryptionKey);
  if (deviceKeyId(signingPublicKey, encryptionPublicKey) !== cert.keyId) {
    throw new LiaisonError('CERT_INVALID', 'key id does not match the keys');
  }
  return { ...cert, signingPublicKey, encryptionPublicKey };
}

/** Throws unless `at` lies within the certificate's validity period. */
export function checkValidity(cert: CertificatePayload, at: number): void {
  if (at < cert.notBefore)
    throw new LiaisonError('CERT_NOT_YET_VALID', undefined, { deviceId: cert.deviceId });
  if (at > cert.notAfter)
    throw new LiaisonError('CERT_EXPIRED', undefined, { deviceId: cert.deviceId });
}

/** Office devices belong to border offices; the hub and analysts belong to CARICC (in KZ). */
function isConsistent(cert: CertificatePayload): boolean {
  if (officeOfDevice(cert.deviceId) !== cert.officeId) return false;
  if (cert.notBefore > cert.notAfter) return false;
  const atHub = cert.officeId === HUB_OFFICE_ID;
  if (atHub) return cert.role !== 'device' && cert.country === 'KZ';
  return cert.role === 'device' && cert.officeId.startsWith(`${cert.country}-`);
}
