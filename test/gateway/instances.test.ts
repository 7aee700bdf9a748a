import { randomUUID } from 'node:crypto';
import type { Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisEngine } from '../../src/engine/redis.js';
import { openEnvelope } from '../../src/envelope/open.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import { nextStatement } from '../fixtures/directory-changes.js';
import { REDIS_URL } from '../fixtures/engines.js';
import {
  chat,
  connect,
  next,
  nextMatching,
  request,
  seal,
  startTestGateway,
} from '../fixtures/gateway.js';
import { buildWorld, device, type World } from '../fixtures/world.js';

/** Two gateway instances sharing one Redis, as behind a load balancer. */
describe('two gateway instances sharing Redis', () => {
  let world: World;
  const prefix = `liaison-test:${randomUUID()}:`;
  const engines: RedisEngine[] = [];
  let a: Gateway;
  let b: Gateway;
  const sockets: Socket[] = [];
  const open = async (gateway: Gateway, deviceId: string) => {
    const socket = await connect(gateway, device(world, deviceId));
    sockets.push(socket);
    return socket;
  };

  beforeAll(async () => {
    world = await buildWorld(Date.now());
    for (let i = 0; i < 2; i++)
      engines.push(new RedisEngine({ url: REDIS_URL, prefix, retentionMs: 60_000 }));
    a = await startTestGateway(engines[0] as RedisEngine, world);
    b = await startTestGateway(engines[1] as RedisEngine, world);
  });
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.close();
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    await engines[0]?.destroy();
    for (const engine of engines) await engine.close();
  });

  it('a chat and an alert sent through one instance reach devices on the other', async () => {
    const kordai = await open(a, 'KZ-KORDAI/desk-1');
    const akzhol = await open(b, 'KG-AKZHOL/desk-1');
    const sender = device(world, 'KZ-KORDAI/desk-1');
    for (const body of [
      chat('Across the instances'),
      {
        type: 'alert' as const,
        category: 'wanted-person' as const,
        precedence: 'FLASH' as const,
        title: 'Wanted person may cross tonight',
        description: 'Travelling on a forged Kyrgyz passport.',
        location: { bcp: 'Kordai' },
        subjects: [
          { kind: 'document' as const, documentType: 'passport' as const, number: 'AC0000001' },
        ],
        validFrom: Date.now(),
        validUntil: Date.now() + 3_600_000,
      },
    ]) {
      const arrival = next<{ envelope: unknown }>(akzhol, 'envelope');
      const envelope = await seal(world, sender, ['KG-AKZHOL'], body);
      expect(await request(kordai, 'envelope:send', envelope)).toMatchObject({ ok: true });
      const opened = await openEnvelope(
        (await arrival).envelope,
        device(world, 'KG-AKZHOL/desk-1'),
        world.directory,
      );
      expect(opened.body).toEqual(body);
    }
  });

  it('what one instance accepted, a device fetches from the other after being offline', async () => {
    const kordai = await open(a, 'KZ-KORDAI/duty-1');
    const envelope = await seal(
      world,
      device(world, 'KZ-KORDAI/duty-1'),
      ['KG-AKZHOL'],
      chat('while you were away'),
    );
    expect(await request(kordai, 'envelope:send', envelope)).toMatchObject({ ok: true });
    const duty = await open(b, 'KG-AKZHOL/duty-1');
    const page = await request<{ items: { envelope: { header: { id: string } } }[] }>(
      duty,
      'inbox:fetch',
      { after: 0, limit: 100 },
    );
    expect(page.items.map((i) => i.envelope.header.id)).toContain(envelope.header.id);
  });

  it('sessions of one device on both instances stay connected and each gets the push', async () => {
    const old = await open(a, 'KG-AKZHOL/desk-1');
    const fresh = await open(b, 'KG-AKZHOL/desk-1');
    const arrivals = [next(old, 'envelope'), next(fresh, 'envelope')];
    const kordai = await open(a, 'KZ-KORDAI/desk-1');
    const envelope = await seal(
      world,
      device(world, 'KZ-KORDAI/desk-1'),
      ['KG-AKZHOL'],
      chat('to both sessions'),
    );
    expect(await request(kordai, 'envelope:send', envelope)).toMatchObject({ ok: true });
    await Promise.all(arrivals);
    expect(old.connected && fresh.connected).toBe(true);
  });

  it('presence crosses instances', async () => {
    const kordai = await open(a, 'KZ-KORDAI/desk-1');
    const online = nextMatching<{ online: boolean }>(kordai, 'presence', (p) => p.online);
    await open(b, 'KG-AKZHOL/duty-1');
    expect(await online).toMatchObject({ officeId: 'KG-AKZHOL', online: true });
  });

  it('revoking a device on one instance cuts its connection on the other at once', async () => {
    const socket = await open(b, 'KZ-KORDAI/duty-1');
    const closing = next(socket, 'session:closing');
    const revoked = await nextStatement(world, 'device.revoked', {
      deviceId: 'KZ-KORDAI/duty-1',
      reason: 'compromised',
    });
    await a.sync.submit([revoked]);
    expect(await closing).toEqual({ code: 'DEVICE_REVOKED' });
  });
});
