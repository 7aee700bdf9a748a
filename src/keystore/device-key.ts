import { CertificatePayload, type Signed } from '../../protocol/v1/certificate.js';
import { PlaintextDeviceKeyFile } from '../../protocol/v1/key-file.js';
import { type DeviceKeys, generateDeviceKeys } from '../crypto/keys.js';
import { fromBase64Url, fromUtf8, ready } from '../crypto/sodium.js';

/**
 * A device's private key file in plaintext (0600 always), with its certificate once it has one.
 * Sealed key files (PROTOCOL.md §5.4) are opened by `readDeviceKey` on Node.
 */
export const DeviceKeyFile = PlaintextDeviceKeyFile;
export type DeviceKeyFile = PlaintextDeviceKeyFile;

export interface DeviceIdentity {
  readonly keys: DeviceKeys;
  /** The certificate kept in the key file (the directory is the authoritative copy). */
  readonly certificate?: Signed;
}

/**
 * A device's keys from the contents of its key file (parsed JSON), without touching a disk, so
 * browsers can load a file the user picked. `source` names it in errors.
 *
 * @example
 * const { keys } = await parseDeviceKey(JSON.parse(await file.text()), file.name);
 */
export async function parseDeviceKey(
  file: unknown,
  source = 'device key',
): Promise<DeviceIdentity> {
  await ready;
  const parsed = DeviceKeyFile.parse(file);
  const keys = await generateDeviceKeys(parsed.deviceId, {
    signing: fromBase64Url(parsed.signingSeed),
    encryption: fromBase64Url(parsed.encryptionSeed),
  });
  if (keys.keyId !== parsed.keyId) throw new Error(`${source}: key id does not match the keys`);
  if (!parsed.certificate) return { keys };
  // The certificate rides outside the seal: it must at least name these keys and this device.
  const cert = CertificatePayload.safeParse(
    JSON.parse(fromUtf8(fromBase64Url(parsed.certificate.payload))),
  );
  if (!cert.success || cert.data.keyId !== keys.keyId || cert.data.deviceId !== keys.deviceId) {
    throw new Error(`${source}: the certificate in the file is not for its keys`);
  }
  return { keys, certificate: parsed.certificate };
}
