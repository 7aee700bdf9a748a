import { z } from 'zod';
import { Signed } from '../../protocol/v1/certificate.js';
import { Base64Url, DeviceId } from '../../protocol/v1/primitives.js';
import { type DeviceKeys, generateDeviceKeys } from '../crypto/keys.js';
import { fromBase64Url, ready } from '../crypto/sodium.js';

/** A device's private key file with its certificate. 0600 always. */
export const DeviceKeyFile = z.strictObject({
  v: z.literal(1),
  type: z.literal('liaison.device-key'),
  deviceId: DeviceId,
  keyId: Base64Url,
  signingSeed: Base64Url,
  encryptionSeed: Base64Url,
  certificate: Signed,
});
export type DeviceKeyFile = z.infer<typeof DeviceKeyFile>;

export interface DeviceIdentity {
  readonly keys: DeviceKeys;
  readonly certificate: Signed;
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
  return { keys, certificate: parsed.certificate };
}
