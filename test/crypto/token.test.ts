import { randomUUID } from 'node:crypto';
import { type JWTPayload, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DeviceKeys } from '../../src/crypto/keys.js';
import { generateDeviceKeys } from '../../src/crypto/keys.js';
import { toBase64Url, utf8 } from '../../src/crypto/sodium.js';
import {
  createClientToken,
  signingKeyOf,
  TOKEN_TYPE,
  verifyClientToken,
} from '../../src/crypto/token.js';
import { enroll, revoke, rotate } from '../fixtures/directory-changes.js';
import { rejectionCode } from '../fixtures/forge.js';
import { buildWorld, DAY, device, NOW, type World } from '../fixtures/world.js';

const AUDIENCE = 'liaison-gateway';
const NOW_S = Math.floor(NOW / 1000);

let world: World;
let kordai: DeviceKeys;

beforeAll(async () => {
  world = await buildWorld();
  kordai = device(world, 'KZ-KORDAI/desk-1');
});

const verify = (token: string, w: World = world, now = NOW) =>
  verifyClientToken(token, w.directory, { audience: AUDIENCE, now });

const refusal = (token: string, w?: World, now?: number) => rejectionCode(verify(token, w, now));

/** The claims a well-behaved client puts in its token, issued at NOW for 60 s. */
const claimsOf = (keys: DeviceKeys): JWTPayload => ({
  iss: keys.deviceId,
  sub: keys.deviceId.slice(0, keys.deviceId.indexOf('/')),
  aud: AUDIENCE,
  iat: NOW_S,
  exp: NOW_S + 60,
  jti: randomUUID(),
});

/** Signs any claims and header with a device's Ed25519 key, as a misbehaving client could. */
async function signAs(
  keys: DeviceKeys,
  claims: JWTPayload,
  header: { kid?: string; typ?: string; cty?: string } = {},
): Promise<string> {
  const key = await signingKeyOf(keys);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'EdDSA', typ: TOKEN_TYPE, kid: keys.keyId, ...header })
    .sign(key);
}

const b64json = (value: object) => toBase64Url(utf8(JSON.stringify(value)));

describe('client tokens', () => {
  it('a fresh token from an enrolled device verifies and names the device, office and gateway', async () => {
    const token = await createClientToken(kordai, { audience: AUDIENCE, issuedAt: NOW_S });
    const { claims, certificate } = await verify(token);
    expect(claims).toMatchObject({
      iss: 'KZ-KORDAI/desk-1',
      sub: 'KZ-KORDAI',
      aud: AUDIENCE,
      iat: NOW_S,
      exp: NOW_S + 60,
    });
    expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(certificate.keyId).toBe(kordai.keyId);
  });

  it('every token gets its own id, so a gateway can refuse a replay', async () => {
    const a = await createClientToken(kordai, { audience: AUDIENCE, issuedAt: NOW_S });
    const b = await createClientToken(kordai, { audience: AUDIENCE, issuedAt: NOW_S });
    expect((await verify(a)).claims.jti).not.toBe((await verify(b)).claims.jti);
  });

  it('a token for another gateway is refused', async () => {
    const token = await createClientToken(kordai, { audience: 'other-gateway', issuedAt: NOW_S });
    expect(await refusal(token)).toBe('TOKEN_AUDIENCE');
  });

  it('an expired token is refused, from the second it expires', async () => {
    const token = await createClientToken(kordai, {
      audience: AUDIENCE,
      issuedAt: NOW_S - 600,
      lifetimeSeconds: 60,
    });
    expect(await refusal(token)).toBe('TOKEN_EXPIRED');
    const edge = { audience: AUDIENCE, issuedAt: NOW_S - 60, lifetimeSeconds: 60 };
    const endsNow = await createClientToken(kordai, edge);
    expect(await refusal(endsNow)).toBe('TOKEN_EXPIRED');
    await expect(verify(endsNow, world, NOW - 1000)).resolves.toBeDefined();
  });

  it('a token issued more than a minute in the future is refused', async () => {
    const early = { audience: AUDIENCE, issuedAt: NOW_S + 120, lifetimeSeconds: 80 };
    expect(await refusal(await createClientToken(kordai, early))).toBe('TOKEN_INVALID');
    const slightlyAhead = { audience: AUDIENCE, issuedAt: NOW_S + 30, lifetimeSeconds: 60 };
    await expect(verify(await createClientToken(kordai, slightlyAhead))).resolves.toBeDefined();
  });

  it('a token that is not valid yet (nbf) is refused', async () => {
    const token = await signAs(kordai, { ...claimsOf(kordai), nbf: NOW_S + 30 });
    expect(await refusal(token)).toBe('TOKEN_INVALID');
  });

  it('a token that lives longer than five minutes is refused, and never made', async () => {
    const token = await signAs(kordai, { ...claimsOf(kordai), exp: NOW_S + 301 });
    expect(await refusal(token)).toBe('TOKEN_LIFETIME');
    await expect(
      createClientToken(kordai, { audience: AUDIENCE, lifetimeSeconds: 301 }),
    ).rejects.toBeInstanceOf(TypeError);
  });

  it('a token that would still be valid more than five minutes from now is refused', async () => {
    // Issued 60 s ahead (the most allowed) for the full 300 s: it would expire at now + 360 s.
    const ahead = { audience: AUDIENCE, issuedAt: NOW_S + 60, lifetimeSeconds: 300 };
    expect(await refusal(await createClientToken(kordai, ahead))).toBe('TOKEN_LIFETIME');
  });

  it('an unsigned token (alg none) is refused', async () => {
    const header = b64json({ alg: 'none', typ: TOKEN_TYPE, kid: kordai.keyId });
    expect(await refusal(`${header}.${b64json(claimsOf(kordai))}.`)).toBe('TOKEN_INVALID');
  });

  it("a token MACed with the device's public key (HS256) is refused", async () => {
    const token = await new SignJWT(claimsOf(kordai))
      .setProtectedHeader({ alg: 'HS256', typ: TOKEN_TYPE, kid: kordai.keyId })
      .sign(kordai.signingPublicKey);
    expect(await refusal(token)).toBe('TOKEN_INVALID');
  });

  it('strings that are not tokens are refused', async () => {
    for (const token of ['', 'abc', 'a.b.c', '..', 'a.b', 'a.b.c.d.e']) {
      expect(await refusal(token)).toBe('TOKEN_INVALID');
    }
  });

  it('a token with the wrong type, a missing id or another office as subject is refused', async () => {
    expect(await refusal(await signAs(kordai, claimsOf(kordai), { typ: 'JWT' }))).toBe(
      'TOKEN_INVALID',
    );
    const { jti: _, ...withoutJti } = claimsOf(kordai);
    expect(await refusal(await signAs(kordai, withoutJti))).toBe('TOKEN_INVALID');
    expect(await refusal(await signAs(kordai, { ...claimsOf(kordai), sub: 'KG-AKZHOL' }))).toBe(
      'TOKEN_INVALID',
    );
  });

  it('a token for a list of audiences is refused', async () => {
    const token = await signAs(kordai, { ...claimsOf(kordai), aud: [AUDIENCE, 'other-gateway'] });
    expect(await refusal(token)).toBe('TOKEN_INVALID');
  });

  it('extra header parameters and claims are tolerated', async () => {
    const token = await signAs(
      kordai,
      { ...claimsOf(kordai), client: 'liaison-py/0.1' },
      {
        cty: 'text/plain',
      },
    );
    expect((await verify(token)).claims.iss).toBe('KZ-KORDAI/desk-1');
  });

  it('a token from a device the directory does not know is refused', async () => {
    const ghost = await generateDeviceKeys('KZ-KORDAI/ghost-1');
    const token = await createClientToken(ghost, { audience: AUDIENCE, issuedAt: NOW_S });
    expect(await refusal(token)).toBe('DEVICE_UNKNOWN');
  });

  it('a token naming a key the device does not have is refused', async () => {
    const token = await signAs(kordai, claimsOf(kordai), { kid: 'AAAAAAAAAAAAAAAAAAAAAA' });
    expect(await refusal(token)).toBe('DEVICE_UNKNOWN');
  });

  it('a token from a revoked device is refused', async () => {
    const w = await buildWorld();
    const keys = device(w, 'KZ-KORDAI/desk-1');
    const token = await createClientToken(keys, { audience: AUDIENCE, issuedAt: NOW_S });
    await expect(verify(token, w)).resolves.toBeDefined();
    await revoke(w, keys.deviceId);
    expect(await refusal(token, w)).toBe('DEVICE_REVOKED');
  });

  it('a token signed with a revoked key is refused', async () => {
    const w = await buildWorld();
    const keys = device(w, 'KG-AKZHOL/duty-1');
    await revoke(w, keys.deviceId, keys.keyId);
    const token = await createClientToken(keys, { audience: AUDIENCE, issuedAt: NOW_S });
    expect(await refusal(token, w)).toBe('DEVICE_REVOKED');
  });

  it('a token from a device whose certificate has expired is refused', async () => {
    const w = await buildWorld();
    const validity = { notBefore: NOW - 30 * DAY, notAfter: NOW - DAY };
    const old = await enroll(w, 'KZ-KORDAI/old-1', validity);
    const token = await createClientToken(old, { audience: AUDIENCE, issuedAt: NOW_S });
    expect(await refusal(token, w)).toBe('CERT_EXPIRED');
  });

  it("a token signed by one device in another device's name is refused", async () => {
    const akzhol = device(world, 'KG-AKZHOL/desk-1');
    // Naming the victim's key: the signature does not verify under it.
    const victimKey = await signAs(akzhol, claimsOf(kordai), { kid: kordai.keyId });
    expect(await refusal(victimKey)).toBe('TOKEN_INVALID');
    // Naming its own key: that key is not one of the victim's.
    const ownKey = await signAs(akzhol, claimsOf(kordai), { kid: akzhol.keyId });
    expect(await refusal(ownKey)).toBe('DEVICE_UNKNOWN');
  });

  it('after a rotation, tokens are signed with the new key', async () => {
    const w = await buildWorld();
    const old = device(w, 'KZ-KORDAI/desk-1');
    const fresh = await rotate(w, old, NOW - 1000);
    const good = await createClientToken(fresh, { audience: AUDIENCE, issuedAt: NOW_S });
    expect((await verify(good, w)).certificate.keyId).toBe(fresh.keyId);
    const stale = await createClientToken(old, { audience: AUDIENCE, issuedAt: NOW_S });
    expect(await refusal(stale, w)).toBe('KEY_ROTATED');
  });
});
