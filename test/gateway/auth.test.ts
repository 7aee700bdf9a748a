import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateDeviceKeys } from '../../src/crypto/keys.js';
import { toBase64Url, utf8 } from '../../src/crypto/sodium.js';
import { createClientToken, signingKeyOf } from '../../src/crypto/token.js';
import type { Engine } from '../../src/engine/engine.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import { nextStatement, rotationStatement } from '../fixtures/directory-changes.js';
import { disposeEngine, ENGINES } from '../fixtures/engines.js';
import { AUDIENCE, connect, next, request, startTestGateway } from '../fixtures/gateway.js';
import { buildWorld, device, type World } from '../fixtures/world.js';

describe.each(ENGINES)('connecting to the gateway on the $name engine', ({ make }) => {
  let world: World;
  let engine: Engine;
  let gateway: Gateway;
  const sockets: Socket[] = [];
  const refusal = (promise: Promise<Socket>) =>
    promise.then(
      (socket) => {
        sockets.push(socket);
        return 'CONNECTED';
      },
      (error: { code?: string }) => error.code,
    );

  beforeAll(async () => {
    world = await buildWorld(Date.now());
    engine = make();
    gateway = await startTestGateway(engine, world);
  });
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.close();
  });
  afterAll(async () => {
    await gateway.close();
    await disposeEngine(engine);
  });

  const desk = () => device(world, 'KZ-KORDAI/desk-1');

  it('refuses a connection without a token', async () => {
    expect(await refusal(connect(gateway, desk(), { auth: {} }))).toBe('UNAUTHORIZED');
  });

  it('accepts a token once: a replayed token is refused on every instance', async () => {
    const token = await createClientToken(desk(), { audience: AUDIENCE });
    expect(await refusal(connect(gateway, desk(), { token }))).toBe('CONNECTED');
    expect(await refusal(connect(gateway, desk(), { token }))).toBe('TOKEN_REPLAYED');
  });

  it('refuses a token for another gateway, an expired one and one that lives too long', async () => {
    const other = await createClientToken(desk(), { audience: 'another-gateway' });
    expect(await refusal(connect(gateway, desk(), { token: other }))).toBe('TOKEN_AUDIENCE');
    const old = await createClientToken(desk(), {
      audience: AUDIENCE,
      issuedAt: Math.floor(Date.now() / 1000) - 120,
      lifetimeSeconds: 60,
    });
    expect(await refusal(connect(gateway, desk(), { token: old }))).toBe('TOKEN_EXPIRED');
    const now = Math.floor(Date.now() / 1000);
    const long = await new SignJWT({})
      .setProtectedHeader({ alg: 'EdDSA', typ: 'liaison-client+jwt', kid: desk().keyId })
      .setIssuer(desk().deviceId)
      .setSubject('KZ-KORDAI')
      .setAudience(AUDIENCE)
      .setIssuedAt(now)
      .setExpirationTime(now + 3600)
      .setJti(randomUUID())
      .sign(await signingKeyOf(desk()));
    expect(await refusal(connect(gateway, desk(), { token: long }))).toBe('TOKEN_LIFETIME');
  });

  it('refuses alg none, HMAC keyed with the public key, and garbage', async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: desk().deviceId,
      sub: 'KZ-KORDAI',
      aud: AUDIENCE,
      iat: now,
      exp: now + 60,
      jti: randomUUID(),
    };
    const b64 = (v: object) => toBase64Url(utf8(JSON.stringify(v)));
    const none = `${b64({ alg: 'none', typ: 'liaison-client+jwt', kid: desk().keyId })}.${b64(claims)}.`;
    expect(await refusal(connect(gateway, desk(), { token: none }))).toBe('TOKEN_INVALID');
    const hmac = await new SignJWT({ ...claims, jti: randomUUID() })
      .setProtectedHeader({ alg: 'HS256', typ: 'liaison-client+jwt', kid: desk().keyId })
      .sign(desk().signingPublicKey);
    expect(await refusal(connect(gateway, desk(), { token: hmac }))).toBe('TOKEN_INVALID');
    expect(await refusal(connect(gateway, desk(), { token: 'not.a.token' }))).toBe('TOKEN_INVALID');
  });

  it('refuses an unknown device, the hub and analysts on the relay', async () => {
    const stranger = await generateDeviceKeys('KZ-KORDAI/laptop-9');
    expect(await refusal(connect(gateway, stranger))).toBe('DEVICE_UNKNOWN');
    expect(await refusal(connect(gateway, device(world, 'CARICC/hub')))).toBe('FORBIDDEN');
    expect(await refusal(connect(gateway, device(world, 'CARICC/analyst-1')))).toBe('FORBIDDEN');
  });

  it('a session refreshes its token before expiry, and is closed when it does not', async () => {
    const shortLived = await createClientToken(desk(), { audience: AUDIENCE, lifetimeSeconds: 2 });
    const socket = await connect(gateway, desk(), { token: shortLived });
    sockets.push(socket);
    const fresh = await createClientToken(desk(), { audience: AUDIENCE, lifetimeSeconds: 3 });
    const refreshed = await request<{ ok: boolean; expiresAt: number }>(socket, 'token:refresh', {
      token: fresh,
    });
    expect(refreshed.ok).toBe(true);
    expect(refreshed.expiresAt).toBeGreaterThan(Date.now() + 1500);
    const foreign = await createClientToken(device(world, 'KZ-KORDAI/duty-1'), {
      audience: AUDIENCE,
    });
    expect(await request(socket, 'token:refresh', { token: foreign })).toMatchObject({
      ok: false,
      error: { code: 'FORBIDDEN' },
    });
    expect(await next(socket, 'session:closing')).toEqual({ code: 'TOKEN_EXPIRED' });
  });

  it('revoking a device closes its live connection at once and refuses it afterwards', async () => {
    const keys = await generateDeviceKeys('KG-AKZHOL/spare-1');
    const enrolment = await world.certify(keys, 'device');
    world.directory.apply(enrolment);
    await gateway.sync.submit([enrolment]);
    const socket = await connect(gateway, keys);
    sockets.push(socket);
    const closing = next(socket, 'session:closing');
    const revoked = await nextStatement(world, 'device.revoked', {
      deviceId: keys.deviceId,
      reason: 'lost',
    });
    const response = await fetch(`${gateway.url}/v1/directory/statements`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ statements: [revoked] }),
    });
    expect(response.status).toBe(200);
    expect(await closing).toEqual({ code: 'DEVICE_REVOKED' });
    expect(await refusal(connect(gateway, keys))).toBe('DEVICE_REVOKED');
  });

  it('rotating out the key a session signed in with closes it with KEY_ROTATED; the new key connects', async () => {
    const keys = await generateDeviceKeys('KZ-KORDAI/spare-2');
    const enrolment = await world.certify(keys, 'device');
    world.directory.apply(enrolment);
    await gateway.sync.submit([enrolment]);
    const socket = await connect(gateway, keys);
    sockets.push(socket);
    const closing = next(socket, 'session:closing');
    const fresh = await generateDeviceKeys(keys.deviceId);
    const rotation = await rotationStatement(world, fresh, keys.keyId, Date.now());
    world.directory.apply(rotation);
    await gateway.sync.submit([rotation]);
    expect(await closing).toEqual({ code: 'KEY_ROTATED' });
    const again = await connect(gateway, fresh);
    sockets.push(again);
    expect(again.connected).toBe(true);
  });
});
