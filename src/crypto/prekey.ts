// Signed prekeys (PROTOCOL.md §5.6): short-lived X25519 keys a device signs with its identity key,
// so that a key stolen today opens nothing sealed before its forward-secrecy window.
import type { Signed } from '../../protocol/v1/certificate.js';
import { PREKEY_LIFETIME_MS, PrekeyPayload } from '../../protocol/v1/prekey.js';
import { LiaisonError } from '../errors.js';
import type { Certificate } from './certificate.js';
import { backend } from './current.js';
import { encode } from './encoding.js';
import type { DeviceKeys } from './keys.js';
import { openSigned, signObject } from './signed.js';
import { fromBase64Url, sodium, toBase64Url } from './sodium.js';

/** The gateway accepts an envelope's createdAt only this close to its clock (§7). */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;

/** A prekey whose signature and ids have been checked, with its public key decoded. */
export interface VerifiedPrekey extends PrekeyPayload {
  readonly publicKeyBytes: Uint8Array;
}

/** A prekey this device made: the payload it publishes and the private half it keeps. */
export interface PrekeyPair {
  readonly payload: PrekeyPayload;
  readonly secretKey: Uint8Array;
}

/** What a prekey is checked against: the verified certificate of the identity key that signs it. */
export type PrekeyOwner = Pick<Certificate, 'deviceId' | 'keyId' | 'signingPublicKey'>;

/** `base64url(BLAKE2b-128(encode(["liaison/v1/prekey-id", publicKey])))` */
export function prekeyId(publicKey: Uint8Array): string {
  return toBase64Url(backend().hash(16, encode(['liaison/v1/prekey-id', publicKey])));
}

/**
 * An X25519 pair valid from `notBefore` for 24 h (libsodium must be ready): from `seed` (the
 * store's chain, test vectors), else fresh.
 */
export function makePrekey(
  identity: DeviceKeys,
  notBefore: number,
  issuedAt: number,
  seed?: Uint8Array,
): PrekeyPair {
  const pair = seed ? backend().boxSeedKeypair(seed) : sodium.crypto_box_keypair();
  return {
    payload: {
      v: 1,
      type: 'liaison.prekey',
      deviceId: identity.deviceId,
      keyId: identity.keyId,
      prekeyId: prekeyId(pair.publicKey),
      publicKey: toBase64Url(pair.publicKey),
      notBefore,
      notAfter: notBefore + PREKEY_LIFETIME_MS,
      issuedAt,
    },
    secretKey: pair.privateKey,
  };
}

/** Signs a prekey with the device's Ed25519 identity key (domain `liaison/v1/prekey`). */
export const signPrekey = (payload: PrekeyPayload, identity: DeviceKeys): Signed =>
  signObject('liaison/v1/prekey', payload, identity.signingSecretKey);

/**
 * Checks a published prekey against the certificate of the key it names: signature under the
 * certificate's signing key, schema, same device and key id, the prekey id, a 24 h lifetime.
 * Any failure is PREKEY_INVALID.
 */
export function verifyPrekey(signed: Signed, certificate: PrekeyOwner): VerifiedPrekey {
  const json = openSigned('liaison/v1/prekey', signed, certificate.signingPublicKey, {
    invalid: 'PREKEY_INVALID',
    untrusted: 'PREKEY_INVALID',
  });
  const parsed = PrekeyPayload.safeParse(json);
  if (!parsed.success) throw new LiaisonError('PREKEY_INVALID', 'prekey does not match schema');
  const payload = parsed.data;
  if (payload.deviceId !== certificate.deviceId || payload.keyId !== certificate.keyId) {
    throw new LiaisonError('PREKEY_INVALID', 'prekey names another device or key');
  }
  if (payload.notAfter !== payload.notBefore + PREKEY_LIFETIME_MS) {
    throw new LiaisonError('PREKEY_INVALID', 'prekey lifetime is not 24 h');
  }
  const publicKeyBytes = fromBase64Url(payload.publicKey);
  if (prekeyId(publicKeyBytes) !== payload.prekeyId) {
    throw new LiaisonError('PREKEY_INVALID', 'prekey id does not match the key');
  }
  return { ...payload, publicKeyBytes };
}

/**
 * The sender's rule (§5.6): of the prekeys that verify under the recipient's certificate, those
 * with `notBefore <= createdAt < notAfter`; of those the greatest `notBefore`, ties to the
 * smallest prekey id bytes. None: PREKEY_MISSING, never the static key (a gateway that withholds
 * prekeys must not strip forward secrecy).
 */
export function pickPrekey(
  prekeys: readonly Signed[],
  recipient: PrekeyOwner,
  createdAt: number,
): VerifiedPrekey {
  const verified = prekeys.flatMap((signed) => {
    try {
      return [verifyPrekey(signed, recipient)];
    } catch {
      return [];
    }
  });
  return pickVerified(verified, recipient, createdAt);
}

/** The pick of `pickPrekey` among prekeys already verified under `recipient`'s certificate. */
export function pickVerified(
  prekeys: readonly VerifiedPrekey[],
  recipient: Pick<PrekeyOwner, 'deviceId' | 'keyId'>,
  createdAt: number,
): VerifiedPrekey {
  let best: VerifiedPrekey | undefined;
  for (const prekey of prekeys) {
    if (prekey.deviceId !== recipient.deviceId || prekey.keyId !== recipient.keyId) continue;
    if (!(prekey.notBefore <= createdAt && createdAt < prekey.notAfter)) continue;
    if (!best || prekey.notBefore > best.notBefore) best = prekey;
    else if (prekey.notBefore === best.notBefore && precedes(prekey, best)) best = prekey;
  }
  if (!best) {
    throw new LiaisonError('PREKEY_MISSING', undefined, {
      deviceId: recipient.deviceId,
      keyId: recipient.keyId,
    });
  }
  return best;
}

/** Unsigned byte order of the decoded prekey ids. */
function precedes(a: PrekeyPayload, b: PrekeyPayload): boolean {
  const x = fromBase64Url(a.prekeyId);
  const y = fromBase64Url(b.prekeyId);
  for (let i = 0; i < x.length; i++) {
    if (x[i] !== y[i]) return (x[i] as number) < (y[i] as number);
  }
  return false;
}
