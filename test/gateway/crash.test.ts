import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishAuthority } from '../../src/crypto/certificate.js';
import { RedisEngine } from '../../src/engine/redis.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import { REDIS_URL } from '../fixtures/engines.js';
import { AUDIENCE, chat, connect, request, seal } from '../fixtures/gateway.js';
import { buildWorld, device, type World } from '../fixtures/world.js';

const root = join(import.meta.dirname, '..', '..');
// Node itself with tsx's loader, so a signal reaches the gateway and not a wrapper process.
const TSX_LOADER = join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs');

interface Running {
  process: ChildProcess;
  gateway: Pick<Gateway, 'url'>;
}

/** Starts `liaison gateway` as its own process and waits until it is ready. */
async function startProcess(env: Record<string, string>): Promise<Running> {
  const child = spawn(
    process.execPath,
    ['--import', TSX_LOADER, join(root, 'src', 'cli', 'main.ts'), 'gateway'],
    {
      env: { ...process.env, ...env, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const url = `http://127.0.0.1:${env.PORT}`;
  for (let i = 0; i < 1200; i++) {
    try {
      if ((await fetch(`${url}/readyz`)).ok) return { process: child, gateway: { url } };
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error(`gateway on ${url} did not become ready`);
}

const exited = (child: ChildProcess) =>
  new Promise<void>((done) =>
    child.exitCode !== null ? done() : child.once('exit', () => done()),
  );

describe('gateway processes', () => {
  let world: World;
  let dir: string;
  const prefix = `liaison-test:${randomUUID()}:`;
  const running: Running[] = [];
  let env: Record<string, string>;

  beforeAll(async () => {
    world = await buildWorld(Date.now());
    dir = await mkdtemp(join(tmpdir(), 'liaison-crash-'));
    const authority = publishAuthority(world.authority, 'test');
    await writeFile(join(dir, 'authority.pub.json'), JSON.stringify(authority));
    await writeFile(
      join(dir, 'directory.json'),
      JSON.stringify({ v: 1, authority, statements: world.directory.statements() }),
    );
    env = {
      REDIS_URL,
      REDIS_PREFIX: prefix,
      GATEWAY_AUDIENCE: AUDIENCE,
      AUTHORITY_FILE: join(dir, 'authority.pub.json'),
      DIRECTORY_FILE: join(dir, 'directory.json'),
    };
  });
  afterAll(async () => {
    for (const r of running) r.process.kill('SIGKILL');
    const engine = new RedisEngine({ url: REDIS_URL, prefix, retentionMs: 1 });
    await engine.destroy();
    await engine.close();
    await rm(dir, { recursive: true, force: true });
  });

  // Two gateway processes compiled on the fly: tens of seconds on a busy two-core machine.
  it('killing one gateway with SIGKILL while messages flow loses nothing that was acknowledged', {
    timeout: 240_000,
  }, async () => {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const [first, second] = await Promise.all([
      startProcess({ ...env, PORT: String(port) }),
      startProcess({ ...env, PORT: String(port + 1) }),
    ]);
    running.push(first, second);

    const sender = device(world, 'KZ-KORDAI/desk-1');
    const socket = await connect(first.gateway as Gateway, sender);
    const acknowledged = new Set<string>();
    const sends: Promise<void>[] = [];
    for (let i = 0; i < 300; i++) {
      // Pace the flow by the acks every 25 messages, as a client with a send window would.
      if (i % 25 === 0) await Promise.all(sends);
      if (!socket.connected) break;
      const envelope = await seal(world, sender, ['KG-AKZHOL'], chat(`message ${i}`));
      sends.push(
        request<{ ok: boolean }>(socket, 'envelope:send', envelope).then(
          (ack) => {
            if (ack.ok) acknowledged.add(envelope.header.id);
          },
          () => undefined, // lost with the process: never acknowledged
        ),
      );
      if (i === 160) first.process.kill('SIGKILL'); // mid-window: sends are in flight
    }
    await Promise.all(sends);

    await exited(first.process);
    socket.close();
    expect(acknowledged.size).toBeGreaterThan(0);

    const reader = await connect(second.gateway as Gateway, device(world, 'KG-AKZHOL/desk-1'));
    const received: string[] = [];
    let after = 0;
    for (;;) {
      const page = await request<{
        items: { offset: number; envelope: { header: { id: string } } }[];
        more: boolean;
        gap: unknown;
      }>(reader, 'inbox:fetch', { after, limit: 100 });
      expect(page.gap).toBeNull();
      received.push(...page.items.map((item) => item.envelope.header.id));
      after = page.items.at(-1)?.offset ?? after;
      if (!page.more) break;
    }
    reader.close();
    for (const id of acknowledged) expect(received).toContain(id);
    expect(new Set(received).size).toBe(received.length);

    second.process.kill('SIGTERM');
    await exited(second.process);
    expect(second.process.exitCode).toBe(0);
  });
});
