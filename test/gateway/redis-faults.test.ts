import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisEngine } from '../../src/engine/redis.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import { chat, connect, request, seal, startTestGateway } from '../fixtures/gateway.js';
import { startTestRedis, type TestRedis } from '../fixtures/redis-server.js';
import { buildWorld, device, type World } from '../fixtures/world.js';

interface Answer {
  ok: boolean;
  items?: { offset: number }[];
  error?: { code: string; message: string; details?: { retryAfterMs?: number } };
}

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked by the assertions
const json = (response: Response): Promise<any> => response.json();

describe('Redis that cannot keep or take data', () => {
  let world: World;
  let redis: TestRedis;
  let admin: Redis;
  let engine: RedisEngine;
  let gateway: Gateway;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    world = await buildWorld(Date.now());
    redis = await startTestRedis(['--maxmemory', '12mb', '--maxmemory-policy', 'noeviction']);
    admin = new Redis(redis.url);
    admin.on('error', () => {});
    engine = new RedisEngine({
      url: redis.url,
      prefix: `liaison-test:${randomUUID()}:`,
      retentionMs: 60_000,
    });
    gateway = await startTestGateway(engine, world);
  });
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.close();
  });
  afterAll(async () => {
    await gateway.close();
    await engine.close();
    admin.disconnect();
    await redis.stop();
  });

  it('a Redis that evicts keys is refused at start and reported not ready', async () => {
    await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
    try {
      const ready = await fetch(`${gateway.url}/readyz`);
      expect(ready.status).toBe(503);
      expect((await json(ready)).status).toMatch(/evicts keys.*allkeys-lru.*noeviction/);
      const other = new RedisEngine({
        url: redis.url,
        prefix: `liaison-test:${randomUUID()}:`,
        retentionMs: 60_000,
      });
      await expect(startTestGateway(other, world)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
      await other.close();
    } finally {
      await admin.config('SET', 'maxmemory-policy', 'noeviction');
    }
    expect((await fetch(`${gateway.url}/readyz`)).status).toBe(200);
  });

  it('out of memory: sends get UNAVAILABLE, devices still connect, fetch and ack; readiness says why', {
    timeout: 60_000,
  }, async () => {
    const sender = await connect(gateway, device(world, 'KZ-KORDAI/desk-1'));
    sockets.push(sender);
    for (let i = 0; i < 5; i++) {
      const envelope = await seal(
        world,
        device(world, 'KZ-KORDAI/desk-1'),
        ['KG-AKZHOL'],
        chat(`before ${i}`),
      );
      expect(await request<Answer>(sender, 'envelope:send', envelope)).toMatchObject({ ok: true });
    }
    // Redis now holds more than its limit allows (as when traffic fills it): it refuses writes.
    await admin.config('SET', 'maxmemory', '1mb');
    try {
      const ready = await fetch(`${gateway.url}/readyz`);
      expect(ready.status).toBe(503);
      expect((await json(ready)).status).toBe('Redis out of memory');

      const envelope = await seal(
        world,
        device(world, 'KZ-KORDAI/desk-1'),
        ['KG-AKZHOL'],
        chat('during'),
      );
      const refused = await request<Answer>(sender, 'envelope:send', envelope);
      expect(refused.error?.code).toBe('UNAVAILABLE');
      expect(refused.error?.message).toBe('Redis out of memory');
      expect(refused.error?.details?.retryAfterMs).toBeGreaterThan(0);

      // A device connects with a fresh token and drains its inbox.
      const reader = await connect(gateway, device(world, 'KG-AKZHOL/desk-1'));
      sockets.push(reader);
      const page = await request<Answer>(reader, 'inbox:fetch', { after: 0, limit: 100 });
      expect(page.ok).toBe(true);
      expect(page.items).toHaveLength(5);
      const last = page.items?.at(-1)?.offset ?? 0;
      expect(await request<Answer>(reader, 'inbox:ack', { upTo: last })).toMatchObject({
        ok: true,
      });
      expect(await engine.inboxes.pending('KG-AKZHOL/desk-1')).toBe(0);
    } finally {
      await admin.config('SET', 'maxmemory', '12mb');
    }
    expect((await fetch(`${gateway.url}/readyz`)).status).toBe(200);
    const after = await seal(
      world,
      device(world, 'KZ-KORDAI/desk-1'),
      ['KG-AKZHOL'],
      chat('after'),
    );
    expect(await request<Answer>(sender, 'envelope:send', after)).toMatchObject({ ok: true });
  });

  it('during an outage every request gets UNAVAILABLE with a retry hint, and nothing hangs', {
    timeout: 60_000,
  }, async () => {
    const socket = await connect(gateway, device(world, 'KZ-KORDAI/desk-1'));
    sockets.push(socket);
    const envelope = await seal(
      world,
      device(world, 'KZ-KORDAI/desk-1'),
      ['KG-AKZHOL'],
      chat('outage'),
    );
    // Served once, so the connection is fully set up before Redis goes.
    expect(await request<Answer>(socket, 'inbox:fetch', { after: 0, limit: 1 })).toMatchObject({
      ok: true,
    });
    await redis.kill();
    try {
      const answers = await Promise.all([
        request<Answer>(socket, 'envelope:send', envelope),
        request<Answer>(socket, 'inbox:fetch', { after: 0, limit: 10 }),
        request<Answer>(socket, 'inbox:ack', { upTo: 1 }),
      ]);
      for (const answer of answers) {
        expect(answer.error?.code).toBe('UNAVAILABLE');
        expect(answer.error?.details?.retryAfterMs).toBeGreaterThan(0);
      }
      await expect(connect(gateway, device(world, 'KG-AKZHOL/desk-1'))).rejects.toMatchObject({
        code: 'UNAVAILABLE',
      });
      const directory = await fetch(`${gateway.url}/v1/directory`);
      expect(directory.status).toBe(503);
      expect((await json(directory)).error.code).toBe('UNAVAILABLE');
      const ready = await fetch(`${gateway.url}/readyz`);
      expect(ready.status).toBe(503);
      expect((await json(ready)).status).toBe('Redis is unreachable');
      expect((await fetch(`${gateway.url}/metrics`)).status).toBe(200);
    } finally {
      await redis.start();
    }
    // Back: the same envelope goes through (the client retried, as told).
    let ack: Answer = { ok: false };
    for (let i = 0; i < 50 && !ack.ok; i++) {
      ack = await request<Answer>(socket, 'envelope:send', envelope);
      if (!ack.ok) await new Promise((done) => setTimeout(done, 200));
    }
    expect(ack.ok).toBe(true);
  });
});
