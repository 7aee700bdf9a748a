import { backend } from '../crypto/current.js';
import { encode } from '../crypto/encoding.js';

const BOX_SEED_BYTES = 32; // crypto_box_SEEDBYTES
const BOX_NONCE_BYTES = 24; // crypto_box_NONCEBYTES

const concat = (a: Uint8Array, b: Uint8Array): Uint8Array => {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
};

// How the content key reaches each reader (PROTOCOL.md §7, "Key commitment and wrapping"). The
// header commits to the key, and each wrap is a sealed box whose ephemeral key is derived from the
// content key: anyone who holds the key can rebuild any wrap, so a recipient can check that the
// hub was given the very key it was given itself, and a forged wrap is refused by all.

/** BLAKE2b-256(encode(["liaison/v2/key-commitment", envelopeId, contentKey])). */
export function keyCommitment(envelopeId: string, contentKey: Uint8Array): Uint8Array {
  return backend().hash(32, encode(['liaison/v2/key-commitment', envelopeId, contentKey]));
}

/** True when `contentKey` is the key the header commits to (constant-time comparison). */
export function matchesCommitment(
  envelopeId: string,
  contentKey: Uint8Array,
  commitment: Uint8Array,
): boolean {
  return backend().equal(keyCommitment(envelopeId, contentKey), commitment);
}

/** Where a content key is sealed: a device's prekey (`prekeyId`) or else its certified key. */
export interface WrapTarget {
  readonly deviceId: string;
  readonly keyId: string;
  readonly prekeyId?: string;
  /** The prekey's public key when `prekeyId` is given, else the certified encryption key. */
  readonly encryptionPublicKey: Uint8Array;
}

/**
 * crypto_box_seal of the content key to one recipient key, with the ephemeral key pair made from
 * `BLAKE2b-256(encode(["liaison/v4/wrap", envelopeId, deviceId, keyId, prekeyId or ""]), key =
 * contentKey)`: `epk || crypto_box(contentKey, BLAKE2b-192(epk || pk), pk, esk)`.
 * crypto_box_seal_open opens it.
 */
export function wrapContentKey(
  contentKey: Uint8Array,
  envelopeId: string,
  recipient: WrapTarget,
): Uint8Array {
  // On the crypto backend: a reader rebuilds the hub's wrap for every envelope it opens.
  const crypto = backend();
  const seed = crypto.hash(
    BOX_SEED_BYTES,
    encode([
      'liaison/v4/wrap',
      envelopeId,
      recipient.deviceId,
      recipient.keyId,
      recipient.prekeyId ?? '',
    ]),
    contentKey,
  );
  const ephemeral = crypto.boxSeedKeypair(seed);
  const publicKey = recipient.encryptionPublicKey;
  const nonce = crypto.hash(BOX_NONCE_BYTES, concat(ephemeral.publicKey, publicKey));
  const boxed = crypto.box(contentKey, nonce, publicKey, ephemeral.privateKey);
  crypto.wipe(ephemeral.privateKey);
  crypto.wipe(seed);
  return concat(ephemeral.publicKey, boxed);
}
