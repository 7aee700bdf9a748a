import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishAuthority } from '../../src/crypto/certificate.js';
import { RedisEngine } from '../../src/engine/redis.js';
import { REDIS_URL } from '../fixtures/engines.js';
import { AUDIENCE, chat, connect, request, seal } from '../fixtures/gateway.js';
import { freePort } from '../fixtures/ports.js';
import { exited, type ServerProcess, startGatewayProcess } from '../fixtures/processes.js';
import { buildWorld, device, type World } from '../fixtures/world.js';

describe('gateway processes', () => {
  let world: World;
  let dir: string;
  const prefix = `liaison-test:${randomUUID()}:`;
  const running: ServerProcess[] = [];
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
    const [first, second] = await Promise.all([
      startGatewayProcess(await freePort(), env),
      startGatewayProcess(await freePort(), env),
    ]);
    running.push(first, second);

    const sender = device(world, 'KZ-KORDAI/desk-1');
    const socket = await connect(first, sender);
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

    const reader = await connect(second, device(world, 'KG-AKZHOL/desk-1'));
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
