import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pinAuthority } from '../../src/crypto/certificate.js';
import { RedisEngine } from '../../src/engine/redis.js';
import { startGateway } from '../../src/gateway/gateway.js';
import { generateDevKeySet, keySetPaths } from '../../src/keystore/devset.js';
import { loadDirectory } from '../../src/keystore/directory-file.js';
import { liaison } from '../fixtures/cli.js';
import { REDIS_URL } from '../fixtures/engines.js';
import { freePort } from '../fixtures/ports.js';

/** Fatal start-up errors of the servers: one line that says what to do, and a non-zero exit. */
describe('a server that cannot start', () => {
  let dir: string;
  let ours: ReturnType<typeof keySetPaths>;
  const env = (extra: Record<string, string>) => ({
    PATH: process.env.PATH,
    LOG_LEVEL: 'silent',
    PORT: '0',
    HUB_PORT: '0',
    ...extra,
  });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'liaison-startup-'));
    await generateDevKeySet(join(dir, 'ours'));
    ours = keySetPaths(join(dir, 'ours'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a gateway and a hub given a Redis that does not answer say so in one line and exit 1', {
    timeout: 120_000,
  }, async () => {
    const redis = `redis://127.0.0.1:${await freePort()}`;
    const [gateway, hub] = await Promise.all([
      liaison(['gateway'], {
        env: env({ REDIS_URL: redis, AUTHORITY_FILE: ours.authorityPublic }),
      }),
      liaison(['hub', 'run'], {
        env: env({
          REDIS_URL: redis,
          AUTHORITY_FILE: ours.authorityPublic,
          HUB_KEY_FILE: ours.deviceKey('CARICC/hub'),
        }),
      }),
    ]);
    for (const result of [gateway, hub]) {
      expect(result.code).toBe(1);
      expect(result.stderr.trim().split('\n')).toEqual([
        expect.stringMatching(
          new RegExp(
            `^liaison: Redis at ${redis} does not answer \\(.+\\): start Redis or set REDIS_URL$`,
          ),
        ),
      ]);
    }
  });

  it('a directory in Redis from another authority is named, with the fix', {
    timeout: 120_000,
  }, async () => {
    // Another key set's gateway filled this prefix first.
    await generateDevKeySet(join(dir, 'theirs'));
    const theirs = keySetPaths(join(dir, 'theirs'));
    const prefix = `liaison-test:${randomUUID()}:`;
    const engine = new RedisEngine({ url: REDIS_URL, prefix, retentionMs: 60_000 });
    const other = await startGateway(
      {
        host: '127.0.0.1',
        port: 0,
        audience: 'liaison-gateway',
        rateLimitPerMinute: 100,
        shutdownGraceMs: 100,
        bootstrap: (await loadDirectory(theirs.directory)).statements(),
      },
      {
        engine,
        authority: await pinAuthority(JSON.parse(await readFile(theirs.authorityPublic, 'utf8'))),
        logger: pino({ level: 'silent' }),
      },
    );
    await other.close();
    try {
      const result = await liaison(['gateway'], {
        env: env({ REDIS_URL, REDIS_PREFIX: prefix, AUTHORITY_FILE: ours.authorityPublic }),
      });
      expect(result.code).toBe(1);
      const lines = result.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain('was signed by another authority');
      expect(lines[0]).toContain(`clear the ${prefix}* keys or set REDIS_PREFIX`);
    } finally {
      await engine.destroy();
      await engine.close();
    }
  });
});
