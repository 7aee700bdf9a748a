import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisEngine } from '../../src/engine/redis.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import { chat, connect, request, seal, startTestGateway } from '../fixtures/gateway.js';
import { startTestRedis, type TestRedis } from '../fixtures/redis-server.js';
import { buildWorld, device, type World } from '../fixtures/world.js';

describe('Redis restarting under the gateway', () => {
  let world: World;
  let redis: TestRedis;
  let engine: RedisEngine;
  let gateway: Gateway;

  beforeAll(async () => {
    world = await buildWorld(Date.now());
    redis = await startTestRedis();
    engine = new RedisEngine({
      url: redis.url,
      prefix: `liaison-test:${randomUUID()}:`,
      retentionMs: 60_000,
    });
    gateway = await startTestGateway(engine, world);
  });
  afterAll(async () => {
    await gateway.close();
    await engine.close();
    await redis.stop();
  });

  it('loses nothing that was acknowledged, and the gateway carries on after Redis is back', {
    timeout: 30_000,
  }, async () => {
    const sender = device(world, 'KZ-KORDAI/desk-1');
    const socket = await connect(gateway, sender);
    const acknowledged: string[] = [];
    for (let i = 0; i < 20; i++) {
      const envelope = await seal(world, sender, ['KG-AKZHOL'], chat(`before ${i}`));
      const ack = await request<{ ok: boolean }>(socket, 'envelope:send', envelope);
      if (ack.ok) acknowledged.push(envelope.header.id);
    }
    expect(acknowledged).toHaveLength(20);

    await redis.restart();

    const after = await seal(world, sender, ['KG-AKZHOL'], chat('after the restart'));
    let ack: { ok: boolean } = { ok: false };
    for (let i = 0; i < 50 && !ack.ok; i++) {
      ack = await request<{ ok: boolean }>(socket, 'envelope:send', after).catch(() => ({
        ok: false,
      }));
      if (!ack.ok) await sleep(100);
    }
    expect(ack.ok).toBe(true);
    acknowledged.push(after.header.id);
    socket.close();

    const reader = await connect(gateway, device(world, 'KG-AKZHOL/desk-1'));
    const page = await request<{ items: { envelope: { header: { id: string } } }[] }>(
      reader,
      'inbox:fetch',
      {
        after: 0,
        limit: 100,
      },
    );
    reader.close();
    expect(page.items.map((item) => item.envelope.header.id)).toEqual(acknowledged);
  });
});
