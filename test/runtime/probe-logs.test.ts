import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryEngine } from '../../src/engine/memory.js';
import { RedisEngine } from '../../src/engine/redis.js';
import { type Gateway, startGateway } from '../../src/gateway/gateway.js';
import type { Hub } from '../../src/hub/service.js';
import { HubStore } from '../../src/hub/store.js';
import { REDIS_URL } from '../fixtures/engines.js';
import { startTestHub } from '../fixtures/hub.js';
import { buildWorld } from '../fixtures/world.js';

/** Probes and scrapers call every few seconds: their requests stay out of the info log. */
describe('request logs', () => {
  const lines: Record<string, unknown>[] = [];
  let gateway: Gateway;
  let hub: Hub;
  let hubEngine: RedisEngine;
  let store: HubStore;
  const prefix = `liaison-test:${randomUUID()}:`;

  beforeAll(async () => {
    const world = await buildWorld(Date.now());
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line));
        done();
      },
    });
    gateway = await startGateway(
      {
        host: '127.0.0.1',
        port: 0,
        audience: 'liaison-test',
        rateLimitPerMinute: 100,
        shutdownGraceMs: 100,
        bootstrap: world.directory.statements(),
      },
      {
        engine: new MemoryEngine({ retentionMs: 60_000 }),
        authority: world.directory.authority,
        logger: pino({ level: 'info' }, sink),
      },
    );
    hubEngine = new RedisEngine({ url: REDIS_URL, prefix, retentionMs: 60_000 });
    store = new HubStore(REDIS_URL, prefix);
    hub = await startTestHub(world, {
      engine: hubEngine,
      store,
      logger: pino({ level: 'info' }, sink),
    });
  });
  afterAll(async () => {
    await hub.close();
    await gateway.close();
    await store.close();
    await hubEngine.destroy();
    await hubEngine.close();
  });

  it('/healthz, /readyz and /metrics are not logged at info; an API request is', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics', '/v1/directory'])
      expect((await fetch(`${gateway.url}${path}`)).status).toBe(200);
    const urls = lines.map((l) => (l.req as { url?: string } | undefined)?.url).filter(Boolean);
    expect(urls).toContain('/v1/directory');
    for (const path of ['/healthz', '/readyz', '/metrics']) expect(urls).not.toContain(path);
  });

  it('the hub does not log its probes at info either; an API request is', async () => {
    const before = lines.length;
    for (const path of ['/healthz', '/readyz', '/metrics'])
      expect((await fetch(`${hub.url}${path}`)).status).toBe(200);
    expect((await fetch(`${hub.url}/v1/record`)).status).toBe(401);
    const urls = lines
      .slice(before)
      .map((l) => (l.req as { url?: string } | undefined)?.url)
      .filter(Boolean);
    expect(urls).toContain('/v1/record');
    for (const path of ['/healthz', '/readyz', '/metrics']) expect(urls).not.toContain(path);
  });
});
