import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDeviceKeys } from '../../src/crypto/keys.js';
import { createClientToken } from '../../src/crypto/token.js';
import { MemoryEngine } from '../../src/engine/memory.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import { nextStatement } from '../fixtures/directory-changes.js';
import { AUDIENCE, chat, connect, request, seal, startTestGateway } from '../fixtures/gateway.js';
import { buildWorld, device, type World } from '../fixtures/world.js';

/** What an administrator reads afterwards: who tried what, with the code, and no secret. */
describe('gateway logs of refusals', () => {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  let world: World;
  let gateway: Gateway;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    world = await buildWorld(Date.now());
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        raw.push(chunk.toString());
        for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line));
        done();
      },
    });
    gateway = await startTestGateway(new MemoryEngine({ retentionMs: 60_000 }), world, {
      logger: pino({ level: 'info' }, sink),
    });
  });
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await gateway.close();
  });

  it('a revoked device that tries to connect is logged at warn by device and code, without its token', async () => {
    const keys = await generateDeviceKeys('KG-AKZHOL/lost-laptop');
    const enrolment = await world.certify(keys, 'device');
    world.directory.apply(enrolment);
    await gateway.sync.submit([enrolment]);
    const revoked = await nextStatement(world, 'device.revoked', {
      deviceId: keys.deviceId,
      reason: 'lost',
    });
    await gateway.sync.submit([revoked]);

    const token = await createClientToken(keys, { audience: AUDIENCE });
    await expect(connect(gateway, keys, { token })).rejects.toMatchObject({
      code: 'DEVICE_REVOKED',
    });
    const attempt = lines.find((l) => l.code === 'DEVICE_REVOKED');
    expect(attempt).toMatchObject({
      level: 40,
      device: 'KG-AKZHOL/lost-laptop',
      key: keys.keyId,
      msg: 'connection refused: revoked or rotated-out key',
    });
    expect(raw.join('')).not.toContain(token);
  });

  it('a session replaced by a fifth of one device, and a disconnect, are logged at info without the token', async () => {
    const keys = device(world, 'KG-AKZHOL/duty-1');
    const tokens: string[] = [];
    const sessions: Socket[] = [];
    for (let i = 0; i < 5; i++) {
      const token = await createClientToken(keys, { audience: AUDIENCE });
      tokens.push(token);
      sessions.push(await connect(gateway, keys, { token }));
    }
    sockets.push(...sessions);
    await expect
      .poll(() => lines.find((l) => l.msg === 'session replaced: too many sessions of one device'))
      .toMatchObject({ level: 30, device: 'KG-AKZHOL/duty-1' });
    sessions[4]?.close();
    await expect
      .poll(() => lines.filter((l) => l.msg === 'disconnected' && l.device === 'KG-AKZHOL/duty-1'))
      .toHaveLength(2);
    for (const line of lines.filter((l) => l.msg === 'disconnected')) expect(line.level).toBe(30);
    for (const token of tokens) expect(raw.join('')).not.toContain(token);
  });

  it('a garbage token is logged at info with its code; a refused request names event and code only', async () => {
    await expect(
      connect(gateway, device(world, 'KZ-KORDAI/desk-1'), { token: 'x.y.z' }),
    ).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    expect(lines.find((l) => l.code === 'TOKEN_INVALID')).toMatchObject({
      level: 30,
      msg: 'connection refused',
    });

    // KZ-KORDAI and UZ-OYBEK are not linked: the send is refused, and the log says so.
    const kordai = await connect(gateway, device(world, 'KZ-KORDAI/desk-1'));
    sockets.push(kordai);
    const secret = 'Convoy plate 01 KG 777 ABC at 10:40';
    const envelope = await seal(
      world,
      device(world, 'KZ-KORDAI/desk-1'),
      ['UZ-OYBEK'],
      chat(secret),
    );
    const answer = await request(kordai, 'envelope:send', envelope);
    expect(answer).toMatchObject({ ok: false, error: { code: 'NOT_LINKED' } });
    expect(lines.find((l) => l.code === 'NOT_LINKED')).toMatchObject({
      level: 30,
      event: 'envelope:send',
      device: 'KZ-KORDAI/desk-1',
      msg: 'request refused',
    });
    expect(raw.join('')).not.toContain(envelope.ciphertext);
    expect(raw.join('')).not.toContain(secret);
  });
});
