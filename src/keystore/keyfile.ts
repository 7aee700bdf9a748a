import type { Signed } from '../../protocol/v1/certificate.js';
import {
  type KdfLevel,
  PlaintextAuthorityKeyFile,
  type SealedKeyFile,
} from '../../protocol/v1/key-file.js';
import { type PinnedAuthority, pinAuthority } from '../crypto/certificate.js';
import { type AuthorityKeys, type DeviceKeys, generateAuthorityKeys } from '../crypto/keys.js';
import { fromBase64Url, fromUtf8, ready, sodium, toBase64Url } from '../crypto/sodium.js';
import { LiaisonError } from '../errors.js';
import { type DeviceIdentity, parseDeviceKey } from './device-key.js';
import { readJsonFile, writeSecretFile } from './files.js';
import { MIN_PASSPHRASE_LENGTH, type PassphraseSource, readPassphrase } from './passphrase.js';
import { openKeyFile, sealKeyFile, wipe } from './sealed.js';

export type { DeviceIdentity } from './device-key.js';

export interface AuthorityKeyPair extends AuthorityKeys {
  readonly name: string;
}

/**
 * How a new private key file is kept: sealed under a passphrase (Argon2id, MODERATE by default),
 * or in plaintext, which only the development set and an explicit --insecure-plaintext ask for.
 */
export type KeyProtection =
  | { readonly passphrase: PassphraseSource; readonly level?: KdfLevel }
  | 'insecure-plaintext';

/** Seeds are stored rather than expanded keys: 32 bytes each, and keys derive from them. */
export async function newSeed(): Promise<Uint8Array> {
  await ready;
  return sodium.randombytes_buf(32);
}

export interface DeviceSeeds {
  readonly signing: Uint8Array;
  readonly encryption: Uint8Array;
}

/** Seals the seeds under a passphrase asked for (twice at a terminal) from `protection`. */
async function sealed(
  seeds: Uint8Array,
  what: string,
  protection: Exclude<KeyProtection, 'insecure-plaintext'>,
  header: { holds: 'device' | 'authority'; id: string; keyId: string },
): Promise<SealedKeyFile> {
  const passphrase = await readPassphrase(protection.passphrase, what, { confirm: true });
  try {
    if (fromUtf8(passphrase).length < MIN_PASSPHRASE_LENGTH) {
      throw new LiaisonError(
        'KEY_FILE_PASSPHRASE_MISSING',
        `${what}: a passphrase needs at least ${MIN_PASSPHRASE_LENGTH} characters`,
      );
    }
    return sealKeyFile(seeds, passphrase, {
      ...header,
      ...(protection.level ? { level: protection.level } : {}),
    });
  } finally {
    wipe(passphrase, seeds);
  }
}

/** Writes the authority's key file (never over another); the seed is wiped once written. */
export async function writeAuthorityKey(
  path: string,
  name: string,
  seed: Uint8Array,
  protection: KeyProtection,
): Promise<AuthorityKeyPair> {
  const keys = await generateAuthorityKeys({ signing: seed });
  const file =
    protection === 'insecure-plaintext'
      ? {
          v: 1,
          type: 'liaison.authority-key',
          name,
          keyId: keys.keyId,
          signingSeed: toBase64Url(seed),
        }
      : await sealed(Uint8Array.from(seed), path, protection, {
          holds: 'authority',
          id: name,
          keyId: keys.keyId,
        });
  wipe(seed);
  await writeSecretFile(path, `${JSON.stringify(file, null, 2)}\n`);
  return { ...keys, name };
}

/**
 * The authority's key from its file, asking for the passphrase (from `passphrase`) only when the
 * file is sealed. Wipe the result with `dropKeys` once done.
 */
export async function readAuthorityKey(
  path: string,
  passphrase?: PassphraseSource,
): Promise<AuthorityKeyPair> {
  await ready;
  const file = await readJsonFile(path);
  if (isSealed(file)) {
    const seed = await openSealed(file, path, passphrase, 32);
    try {
      const keys = await generateAuthorityKeys({ signing: seed });
      if (keys.keyId !== file.keyId || file.holds !== 'authority') {
        throw new Error(`${path}: not the authority key it says it is`);
      }
      return { ...keys, name: file.id };
    } finally {
      wipe(seed);
    }
  }
  const plain = PlaintextAuthorityKeyFile.parse(file);
  const keys = await generateAuthorityKeys({ signing: fromBase64Url(plain.signingSeed) });
  if (keys.keyId !== plain.keyId) throw new Error(`${path}: key id does not match the key`);
  return { ...keys, name: plain.name };
}

/** Writes a device's key file (never over another); the seeds are wiped once written. */
export async function writeDeviceKey(
  path: string,
  keys: DeviceKeys,
  seeds: DeviceSeeds,
  certificate: Signed | undefined,
  protection: KeyProtection,
): Promise<void> {
  const cert = certificate ? { certificate } : {};
  let file: object;
  if (protection === 'insecure-plaintext') {
    file = {
      v: 1,
      type: 'liaison.device-key',
      deviceId: keys.deviceId,
      keyId: keys.keyId,
      signingSeed: toBase64Url(seeds.signing),
      encryptionSeed: toBase64Url(seeds.encryption),
      ...cert,
    };
  } else {
    const secret = new Uint8Array(64);
    secret.set(seeds.signing, 0);
    secret.set(seeds.encryption, 32);
    const header = { holds: 'device' as const, id: keys.deviceId, keyId: keys.keyId };
    file = { ...(await sealed(secret, path, protection, header)), ...cert };
  }
  wipe(seeds.signing, seeds.encryption);
  await writeSecretFile(path, `${JSON.stringify(file, null, 2)}\n`);
}

/**
 * A device's keys from its key file (Node; browsers use `parseDeviceKey` on a plaintext file's
 * contents). A sealed file asks `passphrase` for its passphrase; a plaintext one needs none.
 *
 * @example const { keys } = await readDeviceKey('desk-1.key', { env: 'LIAISON_PASSPHRASE' });
 */
export async function readDeviceKey(
  path: string,
  passphrase?: PassphraseSource,
): Promise<DeviceIdentity> {
  await ready;
  const file = await readJsonFile(path);
  if (!isSealed(file)) return parseDeviceKey(file, path);
  if (file.holds !== 'device')
    throw new Error(`${path} holds an ${file.holds} key, not a device's`);
  const seeds = await openSealed(file, path, passphrase, 64);
  try {
    return await parseDeviceKey(
      {
        v: 1,
        type: 'liaison.device-key',
        deviceId: file.id,
        keyId: file.keyId,
        signingSeed: toBase64Url(seeds.subarray(0, 32)),
        encryptionSeed: toBase64Url(seeds.subarray(32)),
        ...(file.certificate ? { certificate: file.certificate } : {}),
      },
      path,
    );
  } finally {
    wipe(seeds);
  }
}

/** Overwrites a key pair's secret halves once the program is done with them. */
export function dropKeys(keys: AuthorityKeys | DeviceKeys): void {
  wipe(keys.signingSecretKey, 'encryptionSecretKey' in keys ? keys.encryptionSecretKey : undefined);
}

const isSealed = (file: unknown): file is SealedKeyFile =>
  (file as { type?: unknown } | null)?.type === 'liaison.sealed-key';

async function openSealed(
  file: SealedKeyFile,
  path: string,
  source: PassphraseSource | undefined,
  length: number,
): Promise<Buffer> {
  const passphrase = await readPassphrase(source, path);
  try {
    return openKeyFile(file, passphrase, length);
  } finally {
    wipe(passphrase);
  }
}

/** The authority's published key file (e.g. keys/dev/authority.pub.json), pinned. */
export async function readPinnedAuthority(path: string): Promise<PinnedAuthority> {
  return pinAuthority(await readJsonFile(path));
}
