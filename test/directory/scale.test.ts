import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Signed } from '../../protocol/v1/certificate.js';
import type { CryptoBackend } from '../../src/crypto/backend.js';
import { pinAuthority, publishAuthority } from '../../src/crypto/certificate.js';
import { backend, useBackend } from '../../src/crypto/current.js';
import { generateAuthorityKeys } from '../../src/crypto/keys.js';
import { StatementLog } from '../../src/crypto/statement.js';
import { verifiedOnThreads } from '../../src/crypto/verify-pool.js';
import { RedisEngine } from '../../src/engine/redis.js';
import { DirectorySync } from '../../src/runtime/directory-sync.js';
import { REDIS_URL } from '../fixtures/engines.js';
import { buildWorld, device } from '../fixtures/world.js';

// A directory far larger than one Redis call carries (the bootstrap used to pass every statement
// as an argument of one script call and overflow the stack), verified once per process.

const root = join(import.meta.dirname, '..', '..');
const TSX_LOADER = join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs');
const prefix = `liaison-test:${randomUUID()}:`;
const OFFICES = 2_600;

let engine: RedisEngine;
let statements: Signed[];
let authorityKeys: Awaited<ReturnType<typeof generateAuthorityKeys>>;

beforeAll(async () => {
  engine = new RedisEngine({ url: REDIS_URL, prefix, retentionMs: 60_000 });
  authorityKeys = await generateAuthorityKeys();
  const log = new StatementLog(authorityKeys);
  for (let i = 0; i < OFFICES; i++) {
    const officeId = `KG-S${i}`;
    await log.sign('office.registered', { officeId, country: 'KG', name: officeId, bcp: officeId });
  }
  statements = log.statements;
});

afterAll(async () => {
  await engine.destroy();
  await engine.close();
});

/** Counts signature checks on the real backend in use. */
function countingVerifies(): { restore: () => void; count: () => number } {
  const real = backend();
  let verifies = 0;
  const counting: CryptoBackend = {
    ...real,
    verify: (...args) => {
      verifies++;
      return real.verify(...args);
    },
  };
  useBackend(counting);
  return { restore: () => useBackend(real), count: () => verifies };
}

describe('a directory larger than one Redis call', () => {
  it('is written in chunks, in one step, and every instance reads all of it, in order', async () => {
    const authority = await pinAuthority(publishAuthority(authorityKeys, 'test'));
    const writer = new DirectorySync(engine.directoryLog, engine.pubsub, authority);
    const reader = new DirectorySync(engine.directoryLog, engine.pubsub, authority);
    try {
      await writer.start();
      const counter = countingVerifies();
      const onThreads = verifiedOnThreads();
      try {
        expect(await writer.submit(statements)).toBe(OFFICES);
        // Each statement verified once by the instance that wrote it (on worker threads, this
        // batch being large), not again when read back.
        expect(counter.count() + verifiedOnThreads() - onThreads).toBe(OFFICES);
        expect(verifiedOnThreads() - onThreads).toBeGreaterThan(0);
      } finally {
        counter.restore();
      }
      // The reader verifies each statement once too, the long log on worker threads.
      const readerCounter = countingVerifies();
      const readerThreads = verifiedOnThreads();
      try {
        await reader.start();
        expect(readerCounter.count() + verifiedOnThreads() - readerThreads).toBe(OFFICES);
        expect(verifiedOnThreads() - readerThreads).toBeGreaterThan(0);
      } finally {
        readerCounter.restore();
      }
      expect(reader.directory.version).toBe(OFFICES);
      expect(reader.directory.head).toEqual(writer.directory.head);
      expect(reader.directory.office(`KG-S${OFFICES - 1}`)?.name).toBe(`KG-S${OFFICES - 1}`);
      // A writer that lost the race appends nothing, and leaves no staging list behind.
      expect(
        await engine.directoryLog.appendStatements(
          0,
          statements.map((s) => JSON.stringify(s)),
        ),
      ).toBe(false);
      expect((await engine.directoryLog.readStatements(0)).length).toBe(OFFICES);
      const redis = (engine as unknown as { connection: { redis: import('ioredis').Redis } })
        .connection.redis;
      expect(await redis.keys(`${prefix}*staging*`)).toEqual([]);
    } finally {
      await writer.stop();
      await reader.stop();
    }
  });
});

describe('trying statements on a copy', () => {
  it('leaves the directory it was forked from as it was', async () => {
    const world = await buildWorld();
    const before = world.directory.head;
    const copy = world.directory.fork();
    const log = new StatementLog(world.authority, before);
    copy.apply(await log.sign('device.revoked', { deviceId: 'KZ-KORDAI/duty-1', reason: 'lost' }));
    const keyId = device(world, 'KZ-KORDAI/duty-1').keyId;
    expect(() => copy.usableKey('KZ-KORDAI/duty-1', keyId, Date.now())).toThrow();
    expect(world.directory.usableKey('KZ-KORDAI/duty-1', keyId, Date.now()).deviceId).toBe(
      'KZ-KORDAI/duty-1',
    );
    expect(world.directory.head).toEqual(before);
    expect(copy.version).toBe(world.directory.version + 1);
  });
});

describe('a gateway that cannot load its directory', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'liaison-scale-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('exits non-zero with one line saying why, instead of hanging', async () => {
    const authority = publishAuthority(authorityKeys, 'test');
    const other = await generateAuthorityKeys();
    const foreign = new StatementLog(other);
    await foreign.sign('office.registered', {
      officeId: 'KG-X',
      country: 'KG',
      name: 'X',
      bcp: 'X',
    });
    await writeFile(join(dir, 'authority.pub.json'), JSON.stringify(authority));
    await writeFile(
      join(dir, 'directory.json'),
      JSON.stringify({ v: 1, authority, statements: foreign.statements }),
    );
    const child = spawn(
      process.execPath,
      ['--import', TSX_LOADER, join(root, 'src', 'cli', 'main.ts'), 'gateway'],
      {
        env: {
          ...process.env,
          PORT: '0',
          REDIS_URL,
          REDIS_PREFIX: `liaison-test:${randomUUID()}:`,
          GATEWAY_AUDIENCE: 'liaison-test',
          AUTHORITY_FILE: join(dir, 'authority.pub.json'),
          DIRECTORY_FILE: join(dir, 'directory.json'),
          LOG_LEVEL: 'silent',
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr?.on('data', (chunk) => {
      stderr += chunk;
    });
    const watchdog = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const code = await new Promise<number | null>((done) => child.once('exit', done));
    clearTimeout(watchdog);
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/STATEMENT_UNTRUSTED/);
  }, 70_000);
});
