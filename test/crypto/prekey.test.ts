import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Signed } from '../../protocol/v1/certificate.js';
import {
  PREKEY_AHEAD_MS,
  PREKEY_LIFETIME_MS,
  type PrekeyPayload,
} from '../../protocol/v1/prekey.js';
import { pinAuthority, verifyCertificate } from '../../src/crypto/certificate.js';
import { encode } from '../../src/crypto/encoding.js';
import { type DeviceKeys, generateDeviceKeys } from '../../src/crypto/keys.js';
import {
  makePrekey,
  type PrekeyOwner,
  pickPrekey,
  signPrekey,
  verifyPrekey,
} from '../../src/crypto/prekey.js';
import { PrekeyStore } from '../../src/crypto/prekey-store.js';
import { signObject } from '../../src/crypto/signed.js';
import { fromBase64Url, fromUtf8, ready, sodium, toBase64Url } from '../../src/crypto/sodium.js';

const DAY = PREKEY_LIFETIME_MS;
// Prekeys cover whole UTC days (the store's chain has one key per day).
const DAY0 = Date.UTC(2026, 0, 15);
const RETENTION = 30 * DAY;
const dir = join(import.meta.dirname, '..', '..', 'protocol', 'vectors');
// biome-ignore lint/suspicious/noExplicitAny: vectors are read as plain JSON, as an integrator would
const load = async (name: string): Promise<any> =>
  JSON.parse(await readFile(join(dir, `${name}.json`), 'utf8'));

let device: DeviceKeys;
let intruder: DeviceKeys;
let owner: PrekeyOwner;
beforeAll(async () => {
  await ready;
  device = await generateDeviceKeys('KG-AKZHOL/desk-1');
  intruder = await generateDeviceKeys('KG-AKZHOL/duty-1');
  owner = {
    deviceId: device.deviceId,
    keyId: device.keyId,
    signingPublicKey: device.signingPublicKey,
  };
});

const payloadOf = (signed: Signed): PrekeyPayload =>
  JSON.parse(Buffer.from(signed.payload, 'base64url').toString('utf8'));
const expectCode = (fn: () => unknown, code: string) =>
  expect(fn).toThrow(expect.objectContaining({ code }));
const seal = (text: string, signed: Signed) => ({
  prekeyId: payloadOf(signed).prekeyId,
  box: sodium.crypto_box_seal(text, fromBase64Url(payloadOf(signed).publicKey)),
});

describe('signed prekeys: who may publish one', () => {
  it('a prekey signed by the device identity key verifies under its certificate', () => {
    const pair = makePrekey(device, DAY0, DAY0);
    const verified = verifyPrekey(signPrekey(pair.payload, device), owner);
    expect(verified.prekeyId).toBe(pair.payload.prekeyId);
    expect(verified.notAfter - verified.notBefore).toBe(DAY);
  });

  it('a prekey naming this device but signed by another device key is refused', () => {
    const pair = makePrekey(device, DAY0, DAY0);
    expectCode(() => verifyPrekey(signPrekey(pair.payload, intruder), owner), 'PREKEY_INVALID');
  });

  it('a forged signature, a changed payload or a signature of another domain is refused', () => {
    const signed = signPrekey(makePrekey(device, DAY0, DAY0).payload, device);
    const sig = fromBase64Url(signed.signature);
    sig[0] = (sig[0] as number) ^ 1;
    expectCode(
      () => verifyPrekey({ ...signed, signature: toBase64Url(sig) }, owner),
      'PREKEY_INVALID',
    );
    const swapped = {
      ...payloadOf(signed),
      publicKey: toBase64Url(sodium.crypto_box_keypair().publicKey),
    };
    const forged = {
      ...signed,
      payload: Buffer.from(JSON.stringify(swapped)).toString('base64url'),
    };
    expectCode(() => verifyPrekey(forged, owner), 'PREKEY_INVALID');
    const asStatement = signObject(
      'liaison/v1/statement',
      payloadOf(signed),
      device.signingSecretKey,
    );
    expectCode(() => verifyPrekey(asStatement, owner), 'PREKEY_INVALID');
  });

  it('a prekey whose id, key id or lifetime does not match is refused even when signed', () => {
    const base = makePrekey(device, DAY0, DAY0).payload;
    const bad: PrekeyPayload[] = [
      { ...base, prekeyId: toBase64Url(new Uint8Array(16)) },
      { ...base, keyId: intruder.keyId },
      { ...base, deviceId: 'KG-AKZHOL/desk-2' },
      { ...base, notAfter: base.notBefore + 30 * DAY },
    ];
    for (const payload of bad) {
      expectCode(() => verifyPrekey(signPrekey(payload, device), owner), 'PREKEY_INVALID');
    }
    expectCode(() => verifyPrekey({ payload: '!!', signature: 'x' }, owner), 'PREKEY_INVALID');
  });
});

describe('signed prekeys: which one a sender picks', () => {
  it('takes the one valid at createdAt with the latest start; notAfter is exclusive', () => {
    const store = new PrekeyStore(device);
    const published = store.schedule(DAY0);
    const ids = published.map((s) => payloadOf(s).prekeyId);
    expect(pickPrekey(published, owner, DAY0).prekeyId).toBe(ids[0]);
    expect(pickPrekey(published, owner, DAY0 + DAY - 1).prekeyId).toBe(ids[0]);
    expect(pickPrekey(published, owner, DAY0 + DAY).prekeyId).toBe(ids[1]);
    expect(pickPrekey(published, owner, DAY0 + 3 * DAY + 5).prekeyId).toBe(ids[3]);
  });

  it('with no valid prekey the sender gets PREKEY_MISSING, never the static key', () => {
    const published = new PrekeyStore(device).schedule(DAY0);
    expectCode(() => pickPrekey(published, owner, DAY0 - 1), 'PREKEY_MISSING');
    expectCode(() => pickPrekey(published, owner, DAY0 + PREKEY_AHEAD_MS + DAY), 'PREKEY_MISSING');
    expectCode(() => pickPrekey([], owner, DAY0), 'PREKEY_MISSING');
  });

  it('a gateway cannot steer the pick with a later prekey it signed itself', () => {
    const published = new PrekeyStore(device).schedule(DAY0);
    const planted = signPrekey(makePrekey(device, DAY0 + 60_000, DAY0).payload, intruder);
    const chosen = pickPrekey([...published, planted], owner, DAY0 + 120_000);
    expect(chosen.prekeyId).toBe(payloadOf(published[0] as Signed).prekeyId);
    expectCode(() => pickPrekey([planted], owner, DAY0 + 120_000), 'PREKEY_MISSING');
  });
});

describe('signed prekeys: forward secrecy and offline delivery', () => {
  it('a store stolen on day 9 cannot open what was sealed on day 1 once the device drained', () => {
    const store = new PrekeyStore(device);
    const published = store.schedule(DAY0);
    const day1 = DAY0 + DAY + 3_600_000;
    const prekey = pickPrekey(published, owner, day1);
    const sealed = seal(
      'convoy at 10:40',
      published.find((s) => payloadOf(s).prekeyId === prekey.prekeyId) as Signed,
    );
    expect(fromUtf8(store.openSealed(sealed.prekeyId, sealed.box))).toBe('convoy at 10:40');
    const secret = store.open(sealed.prekeyId);

    // The device stays online: it drains its inbox and retires keys daily.
    for (let day = 2; day <= 9; day++) {
      const now = DAY0 + day * DAY;
      store.schedule(now);
      store.retire(now, now, RETENTION);
    }
    // Day 9: the attacker takes everything the store holds.
    expect(secret.every((byte) => byte === 0)).toBe(true);
    expectCode(() => store.open(sealed.prekeyId), 'OWN_KEY_MISSING');
    for (const id of store.held()) {
      expect(() =>
        sodium.crypto_box_seal_open(sealed.box, fromBase64Url(prekey.publicKey), store.open(id)),
      ).toThrow();
    }
    expect(store.held().length).toBeGreaterThan(0);
  });

  it('a device offline for 6 days still opens everything sealed to it in that time', () => {
    const store = new PrekeyStore(device);
    const published = store.schedule(DAY0);
    const lastDrain = DAY0;
    const queued: { text: string; prekeyId: string; box: Uint8Array }[] = [];
    for (let hour = 0; hour < 6 * 24; hour += 5) {
      const createdAt = DAY0 + hour * 3_600_000;
      const prekey = pickPrekey(published, owner, createdAt);
      const signed = published.find((s) => payloadOf(s).prekeyId === prekey.prekeyId) as Signed;
      queued.push({ text: `alert ${hour}`, ...seal(`alert ${hour}`, signed) });
    }
    const back = DAY0 + 6 * DAY + 3_600_000;
    store.retire(back, lastDrain, RETENTION);
    for (const item of queued) {
      expect(fromUtf8(store.openSealed(item.prekeyId, item.box))).toBe(item.text);
    }
    // Once drained after its return, everything older than the window goes.
    store.retire(back + 60_000, back + 60_000, RETENTION);
    expectCode(
      () => store.openSealed(queued[0]?.prekeyId as string, queued[0]?.box as Uint8Array),
      'OWN_KEY_MISSING',
    );
  });

  it('without a drain, a prekey is kept for the whole retention and deleted after it', () => {
    const store = new PrekeyStore(device);
    const first = payloadOf(store.schedule(DAY0)[0] as Signed);
    store.retire(first.notAfter + RETENTION, undefined, RETENTION);
    expect(store.held()).toContain(first.prekeyId);
    store.retire(first.notAfter + RETENTION + 1, undefined, RETENTION);
    expect(store.held()).not.toContain(first.prekeyId);
  });

  it('a drain before notAfter + 5 min does not delete a prekey a late envelope may still need', () => {
    const store = new PrekeyStore(device);
    const first = payloadOf(store.schedule(DAY0)[0] as Signed);
    const justAfter = first.notAfter + 5 * 60_000;
    store.retire(justAfter + 1, justAfter, RETENTION);
    expect(store.held()).toContain(first.prekeyId);
    store.retire(justAfter + 2, justAfter + 1, RETENTION);
    expect(store.held()).not.toContain(first.prekeyId);
  });

  it('two processes of one device derive the same prekeys from one saved state', () => {
    const first = new PrekeyStore(device);
    const published = first.published(DAY0);
    const saved = first.seal();
    const second = PrekeyStore.open(device, saved);
    expect(second.published(DAY0).map(payloadOf)).toEqual(published.map(payloadOf));
    const sealed = seal('for both windows', published[2] as Signed);
    expect(fromUtf8(second.openSealed(sealed.prekeyId, sealed.box))).toBe('for both windows');
  });

  it('a saved state opens only for its own device and only unchanged', () => {
    const saved = new PrekeyStore(device).seal();
    expectCode(() => PrekeyStore.open(intruder, saved), 'PREKEY_STATE_INVALID');
    const bytes = Buffer.from(saved, 'base64url');
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 1;
    expectCode(() => PrekeyStore.open(device, bytes.toString('base64url')), 'PREKEY_STATE_INVALID');
    expectCode(() => PrekeyStore.open(device, 'not a state'), 'PREKEY_STATE_INVALID');
  });

  it('schedule keeps prekeys published 7 days ahead, back to back', () => {
    const store = new PrekeyStore(device);
    const first = store.schedule(DAY0).map(payloadOf);
    expect(first.at(-1)?.notAfter).toBeGreaterThan(DAY0 + PREKEY_AHEAD_MS);
    for (let i = 1; i < first.length; i++) {
      expect(first[i]?.notBefore).toBe(first[i - 1]?.notAfter);
    }
    expect(store.schedule(DAY0 + 1000)).toEqual([]);
    const next = store.schedule(DAY0 + DAY).map(payloadOf);
    expect(next).toHaveLength(1);
    expect(next[0]?.notBefore).toBe(first.at(-1)?.notAfter);
  });
});

describe('protocol/vectors/prekey.json', () => {
  it('lets an integrator check the prekey and rebuild the pick with libsodium alone', async () => {
    const vector = await load('prekey');
    const keys = await load('keys');
    const certs = await load('certificates');
    const kordai = keys.devices.find((d: { deviceId: string }) => d.deviceId === vector.deviceId);
    const signingKey = fromBase64Url(kordai.signingPublicKey);
    const candidates = [];
    for (const entry of vector.pick.prekeys) {
      const bytes = fromBase64Url(entry.signed.payload);
      const payload = JSON.parse(fromUtf8(bytes));
      const ok = sodium.crypto_sign_verify_detached(
        fromBase64Url(entry.signed.signature),
        encode(['liaison/v1/prekey', bytes]),
        signingKey,
      );
      const pair = sodium.crypto_box_seed_keypair(fromBase64Url(entry.seed));
      expect(toBase64Url(pair.publicKey)).toBe(payload.publicKey);
      const id = sodium.crypto_generichash(
        16,
        encode(['liaison/v1/prekey-id', pair.publicKey]),
        null,
      );
      expect(toBase64Url(id)).toBe(payload.prekeyId);
      expect(ok).toBe(entry.signedBy === vector.deviceId);
      const at = vector.pick.createdAt;
      if (
        ok &&
        payload.keyId === kordai.keyId &&
        payload.notBefore <= at &&
        at < payload.notAfter
      ) {
        candidates.push({ payload, id });
      }
    }
    candidates.sort(
      (a, b) => b.payload.notBefore - a.payload.notBefore || Buffer.compare(a.id, b.id),
    );
    expect(candidates[0]?.payload.prekeyId).toBe(vector.pick.chosenPrekeyId);
    expect(vector.prekey.signatureInputHex).toBe(
      sodium.to_hex(encode(['liaison/v1/prekey', fromBase64Url(vector.prekey.signed.payload)])),
    );

    // And the library, from the real certificate, agrees.
    const authority = await pinAuthority(keys.authority.published);
    const cert = certs.certificates.find(
      (c: { deviceId: string }) => c.deviceId === vector.deviceId,
    );
    const certificate = verifyCertificate(cert.certificate, authority);
    const signed = vector.pick.prekeys.map((p: { signed: Signed }) => p.signed);
    expect(pickPrekey(signed, certificate, vector.pick.createdAt).prekeyId).toBe(
      vector.pick.chosenPrekeyId,
    );
  });
});
