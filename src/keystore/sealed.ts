import sodium from 'sodium-native';
import { KDF_LIMITS, type KdfLevel, SealedKeyFile } from '../../protocol/v1/key-file.js';
import { encode } from '../crypto/encoding.js';
import { fromBase64Url, toBase64Url } from '../crypto/sodium.js';
import { LiaisonError } from '../errors.js';

/**
 * Sealing private key material under a passphrase (PROTOCOL.md §5.4). Node only: the Argon2id of
 * libsodium lives in sodium-native here (libsodium-wrappers' standard build has no pwhash), which
 * also lets us wipe the derived key and the plaintext with sodium_memzero.
 */

/** The header fields the AEAD authenticates: everything of the file but the ciphertext. */
export type SealedHeader = Omit<SealedKeyFile, 'ciphertext' | 'certificate'>;

/** `encode(["liaison/v1/sealed-key", holds, id, keyId, kdf…, aead…])` (§4, §5.4). */
export function sealedKeyAssociatedData(header: SealedHeader): Uint8Array {
  return encode([
    'liaison/v1/sealed-key',
    header.type,
    header.holds,
    header.id,
    header.keyId,
    header.kdf.name,
    header.kdf.opslimit,
    header.kdf.memlimit,
    fromBase64Url(header.kdf.salt),
    header.aead.name,
    fromBase64Url(header.aead.nonce),
  ]);
}

/** The 32-byte file key: Argon2id13 over the passphrase's UTF-8 bytes with the file's limits. */
function deriveFileKey(passphrase: Uint8Array, kdf: SealedHeader['kdf']): Buffer {
  const key = sodium.sodium_malloc(32);
  sodium.crypto_pwhash(
    key,
    Buffer.from(passphrase.buffer, passphrase.byteOffset, passphrase.byteLength),
    Buffer.from(fromBase64Url(kdf.salt)),
    kdf.opslimit,
    kdf.memlimit,
    sodium.crypto_pwhash_ALG_ARGON2ID13,
  );
  return key;
}

export interface SealOptions {
  readonly holds: SealedHeader['holds'];
  readonly id: string;
  readonly keyId: string;
  readonly level?: KdfLevel;
  /** Fixed salt and nonce: test vectors only. */
  readonly salt?: Uint8Array;
  readonly nonce?: Uint8Array;
}

/**
 * Seals `secret` (the seeds) into a key file. The caller still owns `secret` and `passphrase`
 * and wipes them; the derived key is wiped here.
 *
 * @example const file = sealKeyFile(seeds, utf8('correct horse'), { holds: 'device', id, keyId });
 */
export function sealKeyFile(
  secret: Uint8Array,
  passphrase: Uint8Array,
  options: SealOptions,
): SealedKeyFile {
  const limits = KDF_LIMITS[options.level ?? 'moderate'];
  const salt = options.salt ?? randomBytes(sodium.crypto_pwhash_SALTBYTES);
  const nonce = options.nonce ?? randomBytes(sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
  const header: SealedHeader = {
    v: 1,
    type: 'liaison.sealed-key',
    holds: options.holds,
    id: options.id,
    keyId: options.keyId,
    kdf: { name: 'argon2id13', ...limits, salt: toBase64Url(salt) },
    aead: { name: 'xchacha20poly1305-ietf', nonce: toBase64Url(nonce) },
  };
  const key = deriveFileKey(passphrase, header.kdf);
  const ciphertext = Buffer.alloc(secret.length + sodium.crypto_aead_xchacha20poly1305_ietf_ABYTES);
  try {
    sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
      ciphertext,
      Buffer.from(secret.buffer, secret.byteOffset, secret.byteLength),
      Buffer.from(sealedKeyAssociatedData(header)),
      null,
      Buffer.from(nonce),
      key,
    );
  } finally {
    sodium.sodium_memzero(key);
  }
  return SealedKeyFile.parse({ ...header, ciphertext: toBase64Url(ciphertext) });
}

/**
 * Opens a sealed key file and returns the seeds in a buffer the caller wipes
 * (`sodium_memzero`) once the keys are derived. A wrong passphrase and a changed header or
 * ciphertext are the same error, KEY_FILE_PASSPHRASE_WRONG: the AEAD cannot tell them apart,
 * and an attacker learns nothing from which it was.
 */
export function openKeyFile(file: unknown, passphrase: Uint8Array, expectedLength: number): Buffer {
  const parsed = SealedKeyFile.safeParse(file);
  if (!parsed.success) {
    throw new LiaisonError('VALIDATION_FAILED', 'not a sealed key file (PROTOCOL.md §5.4)');
  }
  const sealed = parsed.data;
  const ciphertext = Buffer.from(fromBase64Url(sealed.ciphertext));
  const abytes = sodium.crypto_aead_xchacha20poly1305_ietf_ABYTES;
  if (ciphertext.length !== expectedLength + abytes) {
    throw new LiaisonError('KEY_FILE_PASSPHRASE_WRONG');
  }
  const key = deriveFileKey(passphrase, sealed.kdf);
  const plain = sodium.sodium_malloc(expectedLength);
  try {
    sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
      plain,
      null,
      ciphertext,
      Buffer.from(sealedKeyAssociatedData(sealed)),
      Buffer.from(fromBase64Url(sealed.aead.nonce)),
      key,
    );
  } catch {
    sodium.sodium_memzero(plain);
    throw new LiaisonError('KEY_FILE_PASSPHRASE_WRONG');
  } finally {
    sodium.sodium_memzero(key);
  }
  return plain;
}

/** Overwrites secret bytes with zeros (libsodium's sodium_memzero, which the compiler keeps). */
export function wipe(...buffers: (Uint8Array | undefined)[]): void {
  for (const buffer of buffers) {
    if (buffer)
      sodium.sodium_memzero(Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength));
  }
}

function randomBytes(length: number): Buffer {
  const out = Buffer.alloc(length);
  sodium.randombytes_buf(out);
  return out;
}
