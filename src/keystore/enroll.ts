import type { Role, Signed } from '../../protocol/v1/certificate.js';
import type { Country } from '../../protocol/v1/primitives.js';
import { issueCertificate } from '../crypto/certificate.js';
import { type AuthorityKeys, type DeviceKeys, generateDeviceKeys } from '../crypto/keys.js';
import { type LogPosition, signStatement } from '../crypto/statement.js';
import { type KeyProtection, newSeed, writeDeviceKey } from './keyfile.js';

const DAY_MS = 24 * 60 * 60 * 1000;

export interface CertifyRequest {
  readonly deviceId: string;
  readonly country: Country;
  readonly role: Role;
  readonly signingPublicKey: Uint8Array;
  readonly encryptionPublicKey: Uint8Array;
  /** Days the certificate is valid from now. */
  readonly days: number;
  /** The key this one replaces, for a rotation. */
  readonly previousKeyId?: string;
  /** Where the directory log ends: the statement is its next entry. */
  readonly after: LogPosition;
  readonly now?: number;
}

/**
 * The authority's half of an enrolment: a certificate for a device's public keys and the
 * statement that publishes it (`device.enrolled`, or `device.key-rotated`). It never needs a
 * private key of the device.
 */
export async function certifyDevice(
  authority: AuthorityKeys,
  request: CertifyRequest,
): Promise<{ certificate: Signed; statement: Signed }> {
  const now = request.now ?? Date.now();
  const certificate = await issueCertificate(authority, {
    role: request.role,
    deviceId: request.deviceId,
    country: request.country,
    signingPublicKey: request.signingPublicKey,
    encryptionPublicKey: request.encryptionPublicKey,
    // Valid from a minute ago, so a device with a slightly slow clock can use it at once.
    notBefore: now - 60_000,
    notAfter: now + request.days * DAY_MS,
  });
  const position = { issuedAt: now, after: request.after };
  const statement =
    request.previousKeyId === undefined
      ? await signStatement(authority, 'device.enrolled', { certificate }, position)
      : await signStatement(
          authority,
          'device.key-rotated',
          { certificate, previousKeyId: request.previousKeyId },
          position,
        );
  return { certificate, statement };
}

export interface EnrollRequest
  extends Omit<CertifyRequest, 'signingPublicKey' | 'encryptionPublicKey'> {
  /** Where the private key file goes (0600, never overwritten). */
  readonly keyPath: string;
  readonly protection: KeyProtection;
}

/**
 * The shortcut where the authority makes the device's keys itself (the development set, and
 * `liaison keys issue`): the authority then holds the private key it hands over, so production
 * devices use `keys request` + `admin approve` instead.
 */
export async function enrollDevice(
  authority: AuthorityKeys,
  request: EnrollRequest,
): Promise<{ keys: DeviceKeys; certificate: Signed; statement: Signed }> {
  const seeds = { signing: await newSeed(), encryption: await newSeed() };
  const keys = await generateDeviceKeys(request.deviceId, seeds);
  const { certificate, statement } = await certifyDevice(authority, { ...request, ...keys });
  await writeDeviceKey(request.keyPath, keys, seeds, certificate, request.protection);
  return { keys, certificate, statement };
}
