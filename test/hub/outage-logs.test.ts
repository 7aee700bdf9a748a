import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisEngine } from '../../src/engine/redis.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import type { Hub } from '../../src/hub/service.js';
import { HubStore } from '../../src/hub/store.js';
import { startTestGateway } from '../fixtures/gateway.js';
import { startTestHub } from '../fixtures/hub.js';
import { startTestRedis, type TestRedis } from '../fixtures/redis-server.js';
import { buildWorld } from '../fixtures/world.js';

interface Line {
  level: number;
  msg: string;
  failures?: number;
}
const ERROR = 50;

// A Redis outage must show in the hub's log as one error and a reminder now and then, not as
// an error line every second (3,600 an hour): the operator has to find the start of it.
describe('the hub while Redis is down', () => {
  let redis: TestRedis;
  let gatewayEngine: RedisEngine;
  let gateway: Gateway;
  let engine: RedisEngine;
  let store: HubStore;
  let hub: Hub;
  const lines: Line[] = [];
  const prefix = `liaison-test:${randomUUID()}:`;

  /** Resolves once a log line matches (checked as lines arrive, no timing). */
  const logged = (matches: (line: Line) => boolean) =>
    new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (lines.some(matches)) {
          clearInterval(check);
          resolve();
        }
      }, 50);
    });

  beforeAll(async () => {
    const world = await buildWorld(Date.now());
    redis = await startTestRedis();
    gatewayEngine = new RedisEngine({ url: redis.url, prefix, retentionMs: 60_000 });
    gateway = await startTestGateway(gatewayEngine, world);
    engine = new RedisEngine({ url: redis.url, prefix, retentionMs: 60_000 });
    store = new HubStore(redis.url, prefix);
    hub = await startTestHub(world, {
      engine,
      store,
      logger: pino({ level: 'debug' }, { write: (text: string) => lines.push(JSON.parse(text)) }),
    });
  });
  afterAll(async () => {
    await redis.start().catch(() => undefined);
    await hub.close();
    await store.close();
    await engine.close();
    await gateway.close();
    await gatewayEngine.close();
    await redis.stop();
  });

  it('logs one error for the outage, each attempt at debug level, and that recording resumed', {
    timeout: 120_000,
  }, async () => {
    await redis.kill();
    await logged((line) => line.msg === 'recording attempt failed' && (line.failures ?? 0) >= 3);
    const errors = lines.filter((line) => line.level >= ERROR && line.msg.startsWith('recording'));
    expect(errors.map((line) => line.msg)).toEqual(['recording failed; retrying every second']);
    await redis.start();
    await logged((line) => line.msg === 'recording resumed');
    const resumed = lines.find((line) => line.msg === 'recording resumed');
    expect(resumed?.failures).toBeGreaterThanOrEqual(3);
  });
});
