import { z } from 'zod';
import type { Signed } from '../../protocol/v1/certificate.js';
import { Base64Url } from '../../protocol/v1/primitives.js';
import { type PinnedAuthority, pinAuthority } from '../crypto/certificate.js';
import { type AuthorityKeys, type DeviceKeys, generateAuthorityKeys } from '../crypto/keys.js';
import { fromBase64Url, ready, sodium, toBase64Url } from '../crypto/sodium.js';
import { type DeviceIdentity, parseDeviceKey } from './device-key.js';
import { readJsonFile, writeSecretFile } from './files.js';

export type { DeviceIdentity } from './device-key.js';

/** The authority's private key file. Kept offline in production; 0600 always. */
const AuthorityKeyFile = z.strictObject({
  v: z.literal(1),
  type: z.literal('liaison.authority-key'),
  name: z.string(),
  keyId: Base64Url,
  signingSeed: Base64Url,
});

export interface AuthorityKeyPair extends AuthorityKeys {
  readonly name: string;
}

/** Seeds are stored rather than expanded keys: 32 bytes each, and keys derive from them. */
export async function newSeed(): Promise<Uint8Array> {
  await ready;
  return sodium.randombytes_buf(32);
}

export async function writeAuthorityKey(path: string, name: string, seed: Uint8Array) {
  const keys = await generateAuthorityKeys({ signing: seed });
  const file = {
    v: 1,
    type: 'liaison.authority-key',
    name,
    keyId: keys.keyId,
    signingSeed: toBase64Url(seed),
  };
  await writeSecretFile(path, `${JSON.stringify(file, null, 2)}\n`);
  return { ...keys, name };
}

export async function readAuthorityKey(path: string): Promise<AuthorityKeyPair> {
  await ready;
  const file = AuthorityKeyFile.parse(await readJsonFile(path));
  const keys = await generateAuthorityKeys({ signing: fromBase64Url(file.signingSeed) });
  if (keys.keyId !== file.keyId) throw new Error(`${path}: key id does not match the key`);
  return { ...keys, name: file.name };
}

export interface DeviceSeeds {
  readonly signing: Uint8Array;
  readonly encryption: Uint8Array;
}

export async function writeDeviceKey(
  path: string,
  keys: DeviceKeys,
  seeds: DeviceSeeds,
  certificate: Signed,
): Promise<void> {
  const file = {
    v: 1,
    type: 'liaison.device-key',
    deviceId: keys.deviceId,
    keyId: keys.keyId,
    signingSeed: toBase64Url(seeds.signing),
    encryptionSeed: toBase64Url(seeds.encryption),
    certificate,
  };
  await writeSecretFile(path, `${JSON.stringify(file, null, 2)}\n`);
}

/** A device's keys from its key file (Node; browsers use `parseDeviceKey` on the contents). */
export async function readDeviceKey(path: string): Promise<DeviceIdentity> {
  return parseDeviceKey(await readJsonFile(path), path);
}

/** The authority's published key file (e.g. keys/dev/authority.pub.json), pinned. */
export async function readPinnedAuthority(path: string): Promise<PinnedAuthority> {
  return pinAuthority(await readJsonFile(path));
}
