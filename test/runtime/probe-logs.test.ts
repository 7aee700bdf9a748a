import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryEngine } from '../../src/engine/memory.js';
import { type Gateway, startGateway } from '../../src/gateway/gateway.js';
import { buildWorld } from '../fixtures/world.js';

/** Probes and scrapers call every few seconds: their requests stay out of the info log. */
describe('request logs', () => {
  const lines: Record<string, unknown>[] = [];
  let gateway: Gateway;

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
  });
  afterAll(async () => {
    await gateway.close();
  });

  it('/healthz, /readyz and /metrics are not logged at info; an API request is', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics', '/v1/directory'])
      expect((await fetch(`${gateway.url}${path}`)).status).toBe(200);
    const urls = lines.map((l) => (l.req as { url?: string } | undefined)?.url).filter(Boolean);
    expect(urls).toContain('/v1/directory');
    for (const path of ['/healthz', '/readyz', '/metrics']) expect(urls).not.toContain(path);
  });
});
