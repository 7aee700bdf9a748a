import type { Role, Signed } from '../../protocol/v1/certificate.js';
import type { Country } from '../../protocol/v1/primitives.js';
import { issueCertificate } from '../crypto/certificate.js';
import { type AuthorityKeys, type DeviceKeys, generateDeviceKeys } from '../crypto/keys.js';
import { type LogPosition, signStatement } from '../crypto/statement.js';
import { newSeed, writeDeviceKey } from './keyfile.js';

const DAY_MS = 24 * 60 * 60 * 1000;

export interface EnrollRequest {
  readonly deviceId: string;
  readonly country: Country;
  readonly role: Role;
  /** Days the certificate is valid from now. */
  readonly days: number;
  /** Where the private key file goes (0600, never overwritten). */
  readonly keyPath: string;
  /** The key this one replaces, for a rotation. */
  readonly previousKeyId?: string;
  /** Where the directory log ends: the statement is its next entry. */
  readonly after: LogPosition;
  readonly now?: number;
}

/**
 * Makes a device identity: fresh keys, a certificate from the authority, the private key file,
 * and the statement that publishes it (`device.enrolled`, or `device.key-rotated`).
 */
export async function enrollDevice(
  authority: AuthorityKeys,
  request: EnrollRequest,
): Promise<{ keys: DeviceKeys; certificate: Signed; statement: Signed }> {
  const now = request.now ?? Date.now();
  const seeds = { signing: await newSeed(), encryption: await newSeed() };
  const keys = await generateDeviceKeys(request.deviceId, seeds);
  const certificate = await issueCertificate(authority, {
    role: request.role,
    deviceId: request.deviceId,
    country: request.country,
    signingPublicKey: keys.signingPublicKey,
    encryptionPublicKey: keys.encryptionPublicKey,
    // Valid from a minute ago, so a device with a slightly slow clock can use it at once.
    notBefore: now - 60_000,
    notAfter: now + request.days * DAY_MS,
  });
  await writeDeviceKey(request.keyPath, keys, seeds, certificate);
  const statement =
    request.previousKeyId === undefined
      ? await signStatement(
          authority,
          'device.enrolled',
          { certificate },
          { issuedAt: now, after: request.after },
        )
      : await signStatement(
          authority,
          'device.key-rotated',
          { certificate, previousKeyId: request.previousKeyId },
          { issuedAt: now, after: request.after },
        );
  return { keys, certificate, statement };
}
