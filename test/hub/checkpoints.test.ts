import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishAuthority } from '../../src/crypto/certificate.js';
import { signCheckpoint } from '../../src/directory/checkpoint.js';
import { RedisEngine } from '../../src/engine/redis.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import { verifyRecord } from '../../src/hub/checkpoints.js';
import { entryHash, formatEntry, parseEntry, verifyChain } from '../../src/hub/record.js';
import { HubStore } from '../../src/hub/store.js';
import { REDIS_URL } from '../fixtures/engines.js';
import { chat, connect, request, seal, startTestGateway } from '../fixtures/gateway.js';
import { testRecorder } from '../fixtures/hub.js';
import { buildWorld, device, type World } from '../fixtures/world.js';

// Whoever controls Redis rewrites the record: edits an entry and recomputes every hash after
// it, cuts the tail, trims the start and resets the base, or wipes it all. The chain alone still
// verifies each time; the checkpoints the hub signed with a key Redis never held do not.

const DAY = 24 * 3_600_000;
const root = join(import.meta.dirname, '..', '..');

describe('record checkpoints', () => {
  let world: World;
  const prefix = `liaison-test:${randomUUID()}:`;
  let engine: RedisEngine;
  let gateway: Gateway;
  let store: HubStore;
  let redis: Redis;
  let dir: string;
  const key = `${prefix}record`;

  const verify = (exported: unknown[] = [], retentionMs = 365 * DAY) =>
    store.checkpoints.all().then((stored) =>
      verifyRecord(store.record, stored, {
        directory: world.directory,
        now: Date.now(),
        retentionMs,
        exported,
      }),
    );
  /** Everything Redis holds of the record, to put back after each attack. */
  const snapshot = async () => ({
    list: await redis.lrange(key, 0, -1),
    head: await redis.get(`${key}:head`),
    base: await redis.get(`${key}:base`),
  });
  const restore = async (s: Awaited<ReturnType<typeof snapshot>>) => {
    await redis.del(key);
    if (s.list.length > 0) await redis.rpush(key, ...s.list);
    for (const [name, value] of [
      ['head', s.head],
      ['base', s.base],
    ] as const) {
      if (value === null) await redis.del(`${key}:${name}`);
      else await redis.set(`${key}:${name}`, value);
    }
  };
  /** Re-chains stored entries from `base`, as an attacker recomputing every hash would. */
  const rechain = (entries: string[], base: { seq: number; hash: string }) => {
    let prev = base.hash;
    return entries.map((stored, i) => {
      const body = { ...parseEntry(stored).body, seq: base.seq + i + 1, prev };
      const text = JSON.stringify(body);
      prev = entryHash(prev, text);
      return formatEntry(prev, text);
    });
  };

  beforeAll(async () => {
    world = await buildWorld(Date.now());
    engine = new RedisEngine({ url: REDIS_URL, prefix, retentionMs: 60_000 });
    gateway = await startTestGateway(engine, world);
    store = new HubStore(REDIS_URL, prefix);
    await store.stream.ensureGroup('hub');
    redis = new Redis(REDIS_URL);
    dir = await mkdtemp(join(tmpdir(), 'liaison-checkpoints-'));
    const kordai = await connect(gateway, device(world, 'KZ-KORDAI/desk-1'));
    for (let i = 0; i < 6; i++) {
      const envelope = await seal(
        world,
        device(world, 'KZ-KORDAI/desk-1'),
        ['KG-AKZHOL'],
        chat(`n${i}`),
      );
      expect(await request(kordai, 'envelope:send', envelope)).toMatchObject({ ok: true });
    }
    kordai.close();
    const recorder = testRecorder(store, world, 'checkpoints', {
      deadlines: { FLASH: 60_000, IMMEDIATE: 60_000 },
    });
    while ((await recorder.drain()) > 0) {}
    await store.checkpoints.add(
      await signCheckpoint(device(world, 'CARICC/hub'), await store.record.head()),
    );
  });
  afterAll(async () => {
    await gateway.close();
    await store.close();
    await engine.destroy();
    await engine.close();
    await redis.quit();
    await rm(dir, { recursive: true, force: true });
  });

  it('an untouched record verifies against its checkpoints', async () => {
    expect(await verify()).toMatchObject({
      ok: true,
      entries: 6,
      checkpoints: { ok: true, checked: 1 },
    });
  });

  it('an entry edited and every hash after it recomputed is caught at the checkpoint', async () => {
    const before = await snapshot();
    const edited = before.list.map((stored, i) =>
      i === 2 ? stored.replace('"kind":"chat"', '"kind":"alert","precedence":"FLASH"') : stored,
    );
    const forged = rechain(edited, { seq: 0, hash: '0'.repeat(64) });
    await redis.del(key);
    await redis.rpush(key, ...forged);
    const last = parseEntry(forged.at(-1) as string);
    await redis.set(`${key}:head`, `${last.body.seq} ${last.hash}`);
    // The chain alone is fooled...
    expect(verifyChain(forged).ok).toBe(true);
    // ...the signed checkpoint is not.
    const report = await verify();
    await restore(before);
    expect(report.ok).toBe(false);
    expect(report.checkpoints.broken?.reason).toMatch(/rewritten/);
  });

  it('the tail cut off and the head moved back is caught as a truncation', async () => {
    const before = await snapshot();
    await redis.ltrim(key, 0, 3);
    const last = parseEntry((await redis.lindex(key, -1)) as string);
    await redis.set(`${key}:head`, `${last.body.seq} ${last.hash}`);
    const report = await verify();
    await restore(before);
    expect(report).toMatchObject({ ok: false, checkpoints: { broken: { seq: 6 } } });
    expect(report.checkpoints.broken?.reason).toMatch(/truncated/);
  });

  it('the start trimmed and the base reset within retention is caught; after retention it is not', async () => {
    const before = await snapshot();
    const early = { ...parseEntry(before.list[1] as string) };
    const atTwo = await signCheckpoint(device(world, 'CARICC/hub'), { seq: 2, hash: early.hash });
    const third = parseEntry(before.list[3] as string);
    await redis.ltrim(key, 4, -1);
    await redis.set(`${key}:base`, `${third.body.seq} ${third.hash}`);
    const young = await verify([atTwo]);
    const old = await verify([atTwo], 1);
    await restore(before);
    expect(young.ok).toBe(false);
    expect(young.checkpoints.broken?.reason).toMatch(/within the retention period/);
    expect(old.ok).toBe(true);
  });

  it('a checkpoint forged in Redis is ignored, and a forged exported one is refused', async () => {
    const forged = await signCheckpoint(device(world, 'CARICC/analyst-1'), {
      seq: 99,
      hash: 'f'.repeat(64),
    });
    await redis.rpush(`${key}:checkpoints`, JSON.stringify(forged));
    const report = await verify();
    await redis.rpop(`${key}:checkpoints`);
    expect(report).toMatchObject({ ok: true, checkpoints: { refused: 1 } });
    await expect(verify([forged])).rejects.toMatchObject({ code: 'CHECKPOINT_INVALID' });
  });

  it('`liaison hub verify --checkpoint` catches a record wiped from Redis with an exported checkpoint', async () => {
    const authorityFile = join(dir, 'authority.pub.json');
    await writeFile(
      authorityFile,
      JSON.stringify(publishAuthority(world.authority, 'test authority')),
    );
    const hub = device(world, 'CARICC/hub');
    const exportedFile = join(dir, 'checkpoint.json');
    await writeFile(
      exportedFile,
      JSON.stringify(await signCheckpoint(hub, await store.record.head())),
    );
    const run = promisify(execFile);
    const cli = (...args: string[]) =>
      run(
        join(root, 'node_modules', '.bin', 'tsx'),
        [join(root, 'src', 'cli', 'main.ts'), 'hub', 'verify', ...args],
        {
          env: {
            ...process.env,
            REDIS_URL,
            REDIS_PREFIX: prefix,
            AUTHORITY_FILE: authorityFile,
            LOG_LEVEL: 'silent',
          },
        },
      ).then(
        ({ stdout }) => ({ code: 0, stdout }),
        (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
      );
    const intact = await cli('--checkpoint', exportedFile);
    expect(intact).toMatchObject({ code: 0 });
    expect(intact.stdout).toMatch(/consistent with 2 signed checkpoint/);

    const before = await snapshot();
    await redis.del(key, `${key}:head`, `${key}:base`, `${key}:checkpoints`);
    const wiped = await cli('--checkpoint', exportedFile);
    await restore(before);
    expect(wiped.code).toBe(1);
    expect(wiped.stdout).toMatch(/CONTRADICTS the checkpoint .*truncated/);
  }, 120_000);
});
