// The signed-prekey vector (PROTOCOL.md §5.6), from the same fixed seeds as the rest of
// protocol/vectors/: KZ-KORDAI/desk-1 signs five prekeys, and a sender picks one at a given time.
import { PREKEY_LIFETIME_MS } from '../protocol/v1/prekey.js';
import { encode } from '../src/crypto/encoding.js';
import { generateDeviceKeys } from '../src/crypto/keys.js';
import { makePrekey, pickPrekey, signPrekey } from '../src/crypto/prekey.js';
import { fromBase64Url, toBase64Url } from '../src/crypto/sodium.js';

type Fixed = (label: string, length?: number) => Uint8Array;
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

export async function prekeyVector(fixed: Fixed, now: number) {
  const deviceId = 'KZ-KORDAI/desk-1';
  const keys = await generateDeviceKeys(deviceId, {
    signing: fixed(`${deviceId} signing`),
    encryption: fixed(`${deviceId} encryption`),
  });
  const other = await generateDeviceKeys('KG-AKZHOL/desk-1', {
    signing: fixed('KG-AKZHOL/desk-1 signing'),
    encryption: fixed('KG-AKZHOL/desk-1 encryption'),
  });
  const day = Date.UTC(2026, 0, 15);
  const prekeySeed = (i: number) => fixed(`${deviceId} prekey #${i}`);
  // #0 yesterday's, #1 today's, #2 a second one for today (a tie), #3 tomorrow's; #4 would win the
  // pick (it starts latest) but is signed by another device's key, so a sender must drop it.
  const starts = [day - PREKEY_LIFETIME_MS, day, day, day + PREKEY_LIFETIME_MS, day + 3_600_000];
  const prekeys = starts.map((notBefore, i) => {
    const pair = makePrekey(keys, notBefore, now - 7 * PREKEY_LIFETIME_MS, prekeySeed(i));
    const signer = i === 4 ? other : keys;
    return {
      seed: toBase64Url(prekeySeed(i)),
      signedBy: signer.deviceId,
      signed: signPrekey(pair.payload, signer),
    };
  });
  const first = prekeys[0]?.signed;
  if (!first) throw new Error('no prekey');
  const createdAt = now;
  const chosen = pickPrekey(
    prekeys.map((p) => p.signed),
    { deviceId, keyId: keys.keyId, signingPublicKey: keys.signingPublicKey },
    createdAt,
  );
  return {
    description:
      'Signed prekeys of KZ-KORDAI/desk-1: each payload signed with its identity signing key over encode(["liaison/v1/prekey", payload bytes]); X25519 pair = crypto_box_seed_keypair(seed); prekeyId = base64url(BLAKE2b-128(encode(["liaison/v1/prekey-id", publicKey]))). The pick: among those that verify under the certificate (certificates.json) and name its deviceId/keyId, notBefore <= createdAt < notAfter, greatest notBefore, ties to the smallest prekeyId bytes',
    deviceId,
    keyId: keys.keyId,
    prekey: {
      signed: first,
      payloadJson: Buffer.from(first.payload, 'base64url').toString('utf8'),
      signatureInputHex: hex(encode(['liaison/v1/prekey', fromBase64Url(first.payload)])),
    },
    pick: {
      createdAt,
      prekeys,
      chosenPrekeyId: chosen.prekeyId,
    },
  };
}
