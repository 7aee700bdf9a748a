import { backend } from './current.js';
import { encode } from './encoding.js';
import { ready, sodium, toBase64Url } from './sodium.js';

/** CARICC's root signing key. Only the key tooling ever holds `signingSecretKey`. */
export interface AuthorityKeys {
  readonly keyId: string;
  readonly signingPublicKey: Uint8Array;
  readonly signingSecretKey: Uint8Array;
}

/** A device's two key pairs: Ed25519 to sign, X25519 to receive content keys. Never the same key. */
export interface DeviceKeys {
  readonly deviceId: string;
  readonly keyId: string;
  readonly signingPublicKey: Uint8Array;
  readonly signingSecretKey: Uint8Array;
  readonly encryptionPublicKey: Uint8Array;
  readonly encryptionSecretKey: Uint8Array;
}

/** Seeds for deterministic keys (test vectors only); random keys otherwise. */
export interface KeySeeds {
  readonly signing: Uint8Array;
  readonly encryption?: Uint8Array;
}

/** `base64url(BLAKE2b-128(encode(["liaison/v1/device-key-id", signingKey, encryptionKey])))` */
export function deviceKeyId(signingPublicKey: Uint8Array, encryptionPublicKey: Uint8Array): string {
  const input = encode(['liaison/v1/device-key-id', signingPublicKey, encryptionPublicKey]);
  return toBase64Url(backend().hash(16, input));
}

/** `base64url(BLAKE2b-128(encode(["liaison/v1/authority-key-id", signingKey])))` */
export function authorityKeyId(signingPublicKey: Uint8Array): string {
  const input = encode(['liaison/v1/authority-key-id', signingPublicKey]);
  return toBase64Url(backend().hash(16, input));
}

/** Creates the authority's key pair. */
export async function generateAuthorityKeys(seeds?: KeySeeds): Promise<AuthorityKeys> {
  await ready;
  const pair = seeds
    ? sodium.crypto_sign_seed_keypair(seeds.signing)
    : sodium.crypto_sign_keypair();
  return {
    keyId: authorityKeyId(pair.publicKey),
    signingPublicKey: pair.publicKey,
    signingSecretKey: pair.privateKey,
  };
}

/** Creates a fresh identity for a device (or a new key for it, on rotation). */
export async function generateDeviceKeys(deviceId: string, seeds?: KeySeeds): Promise<DeviceKeys> {
  await ready;
  const signing = seeds
    ? sodium.crypto_sign_seed_keypair(seeds.signing)
    : sodium.crypto_sign_keypair();
  const encryption = seeds?.encryption
    ? sodium.crypto_box_seed_keypair(seeds.encryption)
    : sodium.crypto_box_keypair();
  return {
    deviceId,
    keyId: deviceKeyId(signing.publicKey, encryption.publicKey),
    signingPublicKey: signing.publicKey,
    signingSecretKey: signing.privateKey,
    encryptionPublicKey: encryption.publicKey,
    encryptionSecretKey: encryption.privateKey,
  };
}

/**
 * A fingerprint for people to compare out of band (a "safety number"), made the way Signal makes
 * its: BLAKE2b-320 of the public keys, cut into 8 chunks of 5 bytes, each shown mod 100000 as 5
 * digits.
 */
export function fingerprint(...publicKeys: Uint8Array[]): string {
  const hash = sodium.crypto_generichash(40, encode(['liaison/v1/fingerprint', publicKeys]), null);
  const groups: string[] = [];
  for (let i = 0; i < 40; i += 5) {
    const value = hash.subarray(i, i + 5).reduce((acc, byte) => acc * 256 + byte, 0);
    groups.push(String(value % 100000).padStart(5, '0'));
  }
  return groups.join(' ');
}
