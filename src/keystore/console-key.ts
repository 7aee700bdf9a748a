import { argon2id } from 'hash-wasm';
import { z } from 'zod';
import { AuthorityPublicKey } from '../../protocol/v1/certificate.js';
import { Base64Url, base64UrlOf, DeviceId } from '../../protocol/v1/primitives.js';
import { type DeviceKeys, deviceKeyId } from '../crypto/keys.js';
import { fromBase64Url, fromUtf8, ready, sodium, toBase64Url, utf8 } from '../crypto/sodium.js';

/**
 * The Console's key file: a device's private keys sealed under a passphrase, together with what
 * the browser must not take from the gateway — the pinned authority key, the token audiences and,
 * for an analyst, the hub. Those public parts are the AEAD's associated data, so nobody can swap
 * the pinned authority in the file (or in the browser's copy) without the passphrase noticing.
 *
 * The passphrase goes through Argon2id (v1.3, one lane: exactly libsodium's crypto_pwhash, which
 * the browser build of libsodium lacks; hash-wasm computes it in WebAssembly, in Node and
 * browsers alike). Files made before are PBKDF2-HMAC-SHA256 and still open.
 */
export const ConsoleKeyFile = z.strictObject({
  v: z.literal(1),
  type: z.literal('liaison.console-key'),
  deviceId: DeviceId,
  role: z.enum(['device', 'analyst']),
  authority: AuthorityPublicKey,
  gateway: z.strictObject({ audience: z.string().min(1).max(200) }),
  hub: z.strictObject({ url: z.url().max(500), audience: z.string().min(1).max(200) }).optional(),
  kdf: z.discriminatedUnion('name', [
    z.strictObject({
      name: z.literal('argon2id13'),
      /** Passes, as crypto_pwhash's opslimit: INTERACTIVE (2) … SENSITIVE (4). */
      opslimit: z.int().min(2).max(4),
      /** Bytes, as crypto_pwhash's memlimit: INTERACTIVE (64 MiB) … SENSITIVE (1 GiB). */
      memlimit: z
        .int()
        .min(64 * 1024 * 1024)
        .max(1024 * 1024 * 1024),
      salt: base64UrlOf(16),
    }),
    z.strictObject({
      name: z.literal('PBKDF2-SHA256'),
      iterations: z.int().min(100_000).max(10_000_000),
      salt: base64UrlOf(16),
    }),
  ]),
  nonce: base64UrlOf(24),
  ciphertext: Base64Url.max(4096),
});
export type ConsoleKeyFile = z.infer<typeof ConsoleKeyFile>;

/** What the passphrase protects. */
const Secret = z.strictObject({
  keyId: Base64Url,
  signingSeed: base64UrlOf(32),
  encryptionSecretKey: base64UrlOf(32),
});

/**
 * A new file's Argon2id cost: libsodium's INTERACTIVE limits (2 passes over 64 MiB), what a
 * browser tab derives in well under a second.
 */
export const CONSOLE_KDF = { opslimit: 2, memlimit: 64 * 1024 * 1024 } as const;

export type ConsoleKeyMeta = Pick<ConsoleKeyFile, 'deviceId' | 'role' | 'authority' | 'gateway'> & {
  readonly hub?: ConsoleKeyFile['hub'];
};

/** The passphrase is wrong, or the file (or its stored copy) was changed. */
export class WrongPassphrase extends Error {
  override readonly name = 'WrongPassphrase';
}

/** Two 32-byte keys from the passphrase: one opens the key file, one the browser's local vault. */
async function deriveKeys(passphrase: string, kdf: ConsoleKeyFile['kdf']) {
  if (kdf.name === 'argon2id13') {
    // = crypto_pwhash(64, passphrase, salt, opslimit, memlimit, crypto_pwhash_ALG_ARGON2ID13)
    const bits = await argon2id({
      password: utf8(passphrase),
      salt: fromBase64Url(kdf.salt),
      parallelism: 1,
      iterations: kdf.opslimit,
      memorySize: kdf.memlimit / 1024,
      hashLength: 64,
      outputType: 'binary',
    });
    return { fileKey: bits.slice(0, 32), vaultKey: bits.slice(32) };
  }
  const material = await crypto.subtle.importKey(
    'raw',
    new Uint8Array(utf8(passphrase)),
    'PBKDF2',
    false,
    ['deriveBits'],
  );
  const bits = new Uint8Array(
    await crypto.subtle.deriveBits(
      {
        name: 'PBKDF2',
        hash: 'SHA-256',
        salt: new Uint8Array(fromBase64Url(kdf.salt)),
        iterations: kdf.iterations,
      },
      material,
      512,
    ),
  );
  return { fileKey: bits.slice(0, 32), vaultKey: bits.slice(32) };
}

/** The associated data: every public field, in a fixed order. */
const associatedData = (file: Omit<ConsoleKeyFile, 'nonce' | 'ciphertext'>) =>
  utf8(
    JSON.stringify([
      file.v,
      file.type,
      file.deviceId,
      file.role,
      file.authority,
      file.gateway,
      file.hub ?? null,
      file.kdf,
    ]),
  );

/**
 * Seals a device's keys into a Console key file.
 * @example const file = await sealConsoleKey(keys, 'correct horse', { deviceId, role: 'device', authority, gateway: { audience } });
 */
export async function sealConsoleKey(
  keys: DeviceKeys,
  passphrase: string,
  meta: ConsoleKeyMeta,
  cost: { opslimit: number; memlimit: number } = CONSOLE_KDF,
): Promise<ConsoleKeyFile> {
  await ready;
  if (keys.deviceId !== meta.deviceId) throw new TypeError('keys are for another device');
  const head = {
    v: 1 as const,
    type: 'liaison.console-key' as const,
    deviceId: meta.deviceId,
    role: meta.role,
    authority: meta.authority,
    gateway: meta.gateway,
    ...(meta.hub ? { hub: meta.hub } : {}),
    kdf: {
      name: 'argon2id13' as const,
      opslimit: cost.opslimit,
      memlimit: cost.memlimit,
      salt: toBase64Url(sodium.randombytes_buf(16)),
    },
  };
  const { fileKey } = await deriveKeys(passphrase, head.kdf);
  const secret = {
    keyId: keys.keyId,
    signingSeed: toBase64Url(keys.signingSecretKey.subarray(0, 32)),
    encryptionSecretKey: toBase64Url(keys.encryptionSecretKey),
  };
  const nonce = sodium.randombytes_buf(24);
  const ciphertext = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
    utf8(JSON.stringify(secret)),
    associatedData(head),
    null,
    nonce,
    fileKey,
  );
  return ConsoleKeyFile.parse({
    ...head,
    nonce: toBase64Url(nonce),
    ciphertext: toBase64Url(ciphertext),
  });
}

/**
 * Opens a Console key file: the device's keys and the key of its local vault.
 * Throws WrongPassphrase when the passphrase (or the file) is wrong.
 */
export async function openConsoleKey(
  file: ConsoleKeyFile,
  passphrase: string,
): Promise<{ keys: DeviceKeys; vaultKey: Uint8Array }> {
  await ready;
  const { fileKey, vaultKey } = await deriveKeys(passphrase, file.kdf);
  let plain: Uint8Array;
  try {
    plain = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
      null,
      fromBase64Url(file.ciphertext),
      associatedData(file),
      fromBase64Url(file.nonce),
      fileKey,
    );
  } catch {
    throw new WrongPassphrase('wrong passphrase, or the key file was changed');
  }
  const secret = Secret.parse(JSON.parse(fromUtf8(plain)));
  const signing = sodium.crypto_sign_seed_keypair(fromBase64Url(secret.signingSeed));
  const encryptionSecretKey = fromBase64Url(secret.encryptionSecretKey);
  const encryptionPublicKey = sodium.crypto_scalarmult_base(encryptionSecretKey);
  const keyId = deviceKeyId(signing.publicKey, encryptionPublicKey);
  if (keyId !== secret.keyId) throw new WrongPassphrase('the key file does not hold its keys');
  return {
    keys: {
      deviceId: file.deviceId,
      keyId,
      signingPublicKey: signing.publicKey,
      signingSecretKey: signing.privateKey,
      encryptionPublicKey,
      encryptionSecretKey,
    },
    vaultKey,
  };
}
