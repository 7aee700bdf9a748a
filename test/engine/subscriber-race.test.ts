import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channels } from '../../src/engine/keyspace.js';
import { RedisConnection } from '../../src/engine/redis/connection.js';
import { RedisPubSub } from '../../src/engine/redis/pubsub.js';
import { RedisEngine } from '../../src/engine/redis.js';
import { startHub } from '../../src/hub/service.js';
import { HubStore } from '../../src/hub/store.js';
import { REDIS_URL } from '../fixtures/engines.js';
import { buildWorld, device, type World } from '../fixtures/world.js';

/** The subscriber connection carries only (un)subscribe, however early a subscription comes. */
describe('the Redis subscriber connection at start-up', () => {
  const prefix = `liaison-test:${randomUUID()}:`;
  let busy: ChildProcess[] = [];
  let world: World;
  const probe = new Redis(REDIS_URL);

  beforeAll(async () => {
    world = await buildWorld(Date.now());
  });
  afterAll(async () => {
    for (const child of busy) child.kill('SIGKILL');
    busy = [];
    await probe.quit();
  });

  it('a subscription made the moment the socket connects holds, and nothing is refused', async () => {
    const errors: string[] = [];
    const connection = new RedisConnection({
      url: REDIS_URL,
      prefix,
      onError: (e) => errors.push(e.message),
    });
    const pubsub = new RedisPubSub(connection);
    try {
      const got = new Promise<string>((resolve) => {
        // The window ioredis's own start-up commands used to fall into.
        connection.subscriber.once('connect', () => {
          void pubsub.subscribe('race', resolve).catch((e: Error) => errors.push(e.message));
        });
      });
      for (let i = 0; i < 100; i++) {
        if ((await probe.pubsub('NUMSUB', `${prefix}race`))[1] === 1) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      await pubsub.publish('race', 'hello');
      expect(await got).toBe('hello');
      expect(errors).toEqual([]);
    } finally {
      await connection.close();
    }
  });

  it('a hub started 10 times with both cores busy subscribes to its channels every time', {
    timeout: 180_000,
  }, async () => {
    busy = [0, 1].map(() => spawn(process.execPath, ['-e', 'for(;;){}']));
    for (let start = 0; start < 10; start++) {
      const errors: string[] = [];
      const run = `${prefix}hub-${start}:`;
      const engine = new RedisEngine({ url: REDIS_URL, prefix: run, retentionMs: 60_000 });
      const store = new HubStore(REDIS_URL, run, (e) => errors.push(e.message));
      const hub = await startHub(
        {
          host: '127.0.0.1',
          port: 0,
          audience: 'liaison-hub',
          consumer: `race-${start}`,
          deadlines: { FLASH: 60_000, IMMEDIATE: 60_000 },
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
      try {
        // The record channel is followed only while an analyst is connected (none here).
        const wanted = [channels.escalations, channels.recorded].map((c) => `${run}${c}`);
        const counts = (await probe.pubsub('NUMSUB', ...wanted)) as (string | number)[];
        expect(counts.filter((_, i) => i % 2 === 1)).toEqual([1, 0]);
        expect(errors.filter((m) => m.includes('subscriber mode'))).toEqual([]);
      } finally {
        await hub.close();
        await engine.destroy();
        await engine.close();
        await store.close();
      }
    }
  });
});
