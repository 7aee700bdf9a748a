// The key-file and enrolment-request vectors (PROTOCOL.md §5.4, §5.5), from the same fixed seeds
// as the rest of protocol/vectors/. Sealing uses Argon2id at libsodium's INTERACTIVE limits so
// that checking the vector stays fast; real key files default to MODERATE.
import sodium from 'sodium-native';
import type { EnrolmentRequestPayload } from '../protocol/v1/enrolment.js';
import type { SealedKeyFile } from '../protocol/v1/key-file.js';
import { encode } from '../src/crypto/encoding.js';
import { generateDeviceKeys } from '../src/crypto/keys.js';
import { signObject } from '../src/crypto/signed.js';
import { toBase64Url } from '../src/crypto/sodium.js';
import { sealedKeyAssociatedData, sealKeyFile } from '../src/keystore/sealed.js';

type Fixed = (label: string, length?: number) => Uint8Array;
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

export const KEY_FILE_PASSPHRASE = 'correct horse battery staple — Кордай';

/** KZ-KORDAI/desk-1's seeds sealed under a fixed passphrase, salt and nonce. */
export async function keyFileVector(fixed: Fixed) {
  const deviceId = 'KZ-KORDAI/desk-1';
  const signing = fixed(`${deviceId} signing`);
  const encryption = fixed(`${deviceId} encryption`);
  const keys = await generateDeviceKeys(deviceId, { signing, encryption });
  const secret = Buffer.concat([signing, encryption]);
  const salt = fixed('key-file salt', 16);
  const nonce = fixed('key-file nonce', 24);
  const passphrase = Buffer.from(KEY_FILE_PASSPHRASE, 'utf8');
  const file: SealedKeyFile = sealKeyFile(secret, passphrase, {
    holds: 'device',
    id: deviceId,
    keyId: keys.keyId,
    level: 'interactive',
    salt,
    nonce,
  });
  const fileKey = Buffer.alloc(32);
  sodium.crypto_pwhash(
    fileKey,
    passphrase,
    Buffer.from(salt),
    file.kdf.opslimit,
    file.kdf.memlimit,
    sodium.crypto_pwhash_ALG_ARGON2ID13,
  );
  return {
    description:
      'A sealed device key file: fileKey = Argon2id13(passphrase UTF-8, salt, opslimit, memlimit, 32 bytes); ciphertext = XChaCha20-Poly1305-IETF(plaintext, associatedData, nonce, fileKey); plaintext = signing seed || encryption seed',
    passphrase: KEY_FILE_PASSPHRASE,
    passphraseHex: hex(passphrase),
    plaintextHex: hex(secret),
    fileKeyHex: hex(fileKey),
    associatedDataHex: hex(sealedKeyAssociatedData(file)),
    file,
  };
}

/** KZ-KORDAI/desk-1's enrolment request, signed with its own signing key. */
export async function enrolmentVector(fixed: Fixed, createdAt: number) {
  const deviceId = 'KZ-KORDAI/desk-1';
  const keys = await generateDeviceKeys(deviceId, {
    signing: fixed(`${deviceId} signing`),
    encryption: fixed(`${deviceId} encryption`),
  });
  const payload: EnrolmentRequestPayload = {
    v: 1,
    type: 'liaison.enrolment-request',
    officeId: 'KZ-KORDAI',
    deviceId,
    role: 'device',
    keyId: keys.keyId,
    signingKey: toBase64Url(keys.signingPublicKey),
    encryptionKey: toBase64Url(keys.encryptionPublicKey),
    validityDays: 365,
    createdAt,
  };
  const request = signObject('liaison/v1/enrolment-request', payload, keys.signingSecretKey);
  return {
    description:
      'An enrolment request: the device signs encode(["liaison/v1/enrolment-request", payload bytes]) with the signing key it enrols (proof of possession)',
    file: { v: 1, type: 'liaison.enrolment-request', request },
    payloadJson: Buffer.from(request.payload, 'base64url').toString('utf8'),
    signatureInputHex: hex(
      encode(['liaison/v1/enrolment-request', Buffer.from(request.payload, 'base64url')]),
    ),
  };
}
