import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisEngine } from '../../src/engine/redis.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import { type Hub, startHub } from '../../src/hub/service.js';
import { HubStore } from '../../src/hub/store.js';
import { startTestGateway } from '../fixtures/gateway.js';
import { startTestRedis, type TestRedis } from '../fixtures/redis-server.js';
import { buildWorld, device, type World } from '../fixtures/world.js';

// A Redis that evicts keys would drop the record without a trace: the hub must say so, not
// answer "ready" (and must not start on it).
describe('the hub on a Redis that cannot keep data', () => {
  let world: World;
  let redis: TestRedis;
  let admin: Redis;
  const prefix = `liaison-test:${randomUUID()}:`;
  let gatewayEngine: RedisEngine;
  let gateway: Gateway;
  const opened: { close(): Promise<unknown> }[] = [];

  const hubOn = async (): Promise<Hub> => {
    const engine = new RedisEngine({ url: redis.url, prefix, retentionMs: 60_000 });
    const store = new HubStore(redis.url, prefix);
    opened.push(engine, store);
    const hub = await startHub(
      {
        host: '127.0.0.1',
        port: 0,
        audience: 'liaison-test-hub',
        consumer: `hub-${randomUUID()}`,
        deadlines: { FLASH: 400, IMMEDIATE: 800 },
        retentionMs: 3_600_000,
      },
      {
        engine,
        store,
        hubKeys: device(world, 'CARICC/hub'),
        authority: world.directory.authority,
        logger: pino({ level: 'silent' }),
      },
    );
    opened.unshift(hub);
    return hub;
  };

  beforeAll(async () => {
    world = await buildWorld(Date.now());
    redis = await startTestRedis(['--maxmemory', '64mb', '--maxmemory-policy', 'noeviction']);
    admin = new Redis(redis.url);
    admin.on('error', () => {});
    gatewayEngine = new RedisEngine({ url: redis.url, prefix, retentionMs: 60_000 });
    gateway = await startTestGateway(gatewayEngine, world);
  });
  afterAll(async () => {
    for (const part of opened) await part.close();
    await gateway.close();
    await gatewayEngine.close();
    admin.disconnect();
    await redis.stop();
  });

  it('reports not ready with the reason once Redis evicts keys, and ready again after', async () => {
    const hub = await hubOn();
    expect((await fetch(`${hub.url}/readyz`)).status).toBe(200);
    await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
    try {
      const ready = await fetch(`${hub.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { status: string }).status).toMatch(
        /evicts keys.*allkeys-lru.*noeviction/,
      );
      // A replica started now refuses to run on it.
      await expect(hubOn()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    } finally {
      await admin.config('SET', 'maxmemory-policy', 'noeviction');
    }
    expect((await fetch(`${hub.url}/readyz`)).status).toBe(200);
  });
});
