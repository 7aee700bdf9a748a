import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisEngine } from '../../src/engine/redis.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import { chat, connect, request, seal, startTestGateway } from '../fixtures/gateway.js';
import { buildWorld, device, type World } from '../fixtures/world.js';

/** A Redis of this test's own, persisting every write (as production does with AOF). */
function startRedis(port: number, dir: string): ChildProcess {
  return spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'yes',
      '--appendfsync',
      'always',
    ],
    { stdio: 'ignore' },
  );
}

async function waitForRedis(url: string) {
  const probe = new RedisEngine({ url, prefix: 'probe:', retentionMs: 1000 });
  for (let i = 0; i < 100; i++) {
    try {
      await probe.ping();
      await probe.close();
      return;
    } catch {
      await sleep(100);
    }
  }
  await probe.close();
  throw new Error('redis did not start');
}

describe('Redis restarting under the gateway', () => {
  let world: World;
  let dir: string;
  let redis: ChildProcess;
  const port = 40_000 + Math.floor(Math.random() * 10_000);
  const url = `redis://127.0.0.1:${port}`;
  let engine: RedisEngine;
  let gateway: Gateway;

  beforeAll(async () => {
    world = await buildWorld(Date.now());
    dir = await mkdtemp(join(tmpdir(), 'liaison-redis-'));
    redis = startRedis(port, dir);
    await waitForRedis(url);
    engine = new RedisEngine({ url, prefix: `liaison-test:${randomUUID()}:`, retentionMs: 60_000 });
    gateway = await startTestGateway(engine, world);
  });
  afterAll(async () => {
    await gateway.close();
    await engine.close();
    redis.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
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

    redis.kill('SIGKILL');
    await new Promise((done) => redis.once('exit', done));
    redis = startRedis(port, dir);
    await waitForRedis(url);

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
