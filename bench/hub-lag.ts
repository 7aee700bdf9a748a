// How far behind live traffic the hub's record runs: envelopes go through a real gateway on
// Redis as fast as acks allow, a hub replica runs as its own process, and for every envelope we
// read recordedAt − acceptedAt back from the record.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { publishAuthority } from '../src/crypto/certificate.js';
import { generateDeviceKeys } from '../src/crypto/keys.js';
import { RedisEngine } from '../src/engine/redis.js';
import { sealEnvelope } from '../src/envelope/seal.js';
import { startGateway } from '../src/gateway/gateway.js';
import { parseEntry } from '../src/hub/record.js';
import { HubStore } from '../src/hub/store.js';
import { writeDeviceKey } from '../src/keystore/keyfile.js';
import { AUDIENCE, connect, request } from '../test/fixtures/gateway.js';
import { buildWorld, device } from '../test/fixtures/world.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const root = join(import.meta.dirname, '..');

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;

export interface HubLag {
  readonly envelopes: number;
  readonly sendSeconds: number;
  readonly acceptedPerSecond: number;
  readonly lagMs: { p50: number; p99: number; max: number };
  readonly recordedOnce: boolean;
}

export async function benchHubLag(count: number): Promise<HubLag> {
  const world = await buildWorld(Date.now());
  const prefix = `liaison-bench:${randomUUID()}:`;
  const dir = await mkdtemp(join(tmpdir(), 'liaison-bench-'));
  const engine = new RedisEngine({ url: REDIS_URL, prefix, retentionMs: 3_600_000 });
  const store = new HubStore(REDIS_URL, prefix);
  const gateway = await startGateway(
    {
      host: '127.0.0.1',
      port: 0,
      audience: AUDIENCE,
      rateLimitPerMinute: 10_000_000,
      shutdownGraceMs: 1000,
    },
    { engine, authority: world.directory.authority, logger: pino({ level: 'silent' }) },
  );
  await writeFile(
    join(dir, 'authority.pub.json'),
    JSON.stringify(publishAuthority(world.authority, 'bench')),
  );
  // A hub identity whose seeds we hold, so the hub process can load it from a key file.
  const seeds = { signing: randomBytes(32), encryption: randomBytes(32) };
  const hubKeys = await generateDeviceKeys('CARICC/hub-bench', seeds);
  const enrolled = await world.certify(hubKeys, 'hub');
  world.directory.apply(enrolled);
  const { certificate } = JSON.parse(Buffer.from(enrolled.payload, 'base64url').toString());
  await writeDeviceKey(join(dir, 'hub.key'), hubKeys, seeds, certificate);
  await gateway.sync.submit(world.directory.statements());
  let hub: ChildProcess | undefined;
  try {
    hub = spawn(
      process.execPath,
      [
        '--import',
        join(root, 'node_modules/tsx/dist/loader.mjs'),
        join(root, 'src/cli/main.ts'),
        'hub',
        'run',
      ],
      {
        env: {
          ...process.env,
          REDIS_URL,
          REDIS_PREFIX: prefix,
          HUB_PORT: '0',
          LOG_LEVEL: 'warn',
          AUTHORITY_FILE: join(dir, 'authority.pub.json'),
          HUB_KEY_FILE: join(dir, 'hub.key'),
          HUB_CONSUMER: 'bench-hub',
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );

    const senders = ['KZ-KORDAI/desk-1', 'KZ-KORDAI/duty-1'];
    const sealed = await Promise.all(
      senders.map(async (id) => {
        const out = [];
        for (let i = 0; i < count / senders.length; i++) {
          out.push(
            await sealEnvelope({
              sender: device(world, id),
              to: ['KG-AKZHOL'],
              body: { type: 'chat', text: 'x'.repeat(1024) },
              recipients: world.directory.recipientKeys(['KG-AKZHOL'], Date.now()),
            }),
          );
        }
        return out;
      }),
    );
    const sockets = await Promise.all(senders.map((id) => connect(gateway, device(world, id))));
    // Wait until the hub process is consuming, so its start-up is not counted as lag.
    const warmUp = await sealEnvelope({
      sender: device(world, senders[0] as string),
      to: ['KG-AKZHOL'],
      body: { type: 'chat', text: 'warm-up' },
      recipients: world.directory.recipientKeys(['KG-AKZHOL'], Date.now()),
    });
    await request(sockets[0] as Awaited<ReturnType<typeof connect>>, 'envelope:send', warmUp);
    while ((await store.length()) < 1) await sleep(50);
    const accepted = new Set<string>();
    const start = performance.now();
    await Promise.all(
      sockets.map(async (socket, s) => {
        const list = sealed[s] ?? [];
        for (let i = 0; i < list.length; i += 50) {
          await Promise.all(
            list.slice(i, i + 50).map(async (envelope) => {
              const ack = await request<{ ok: boolean }>(socket, 'envelope:send', envelope);
              if (ack.ok) accepted.add(envelope.header.id);
            }),
          );
        }
      }),
    );
    const sendSeconds = (performance.now() - start) / 1000;
    for (const socket of sockets) socket.close();

    const deadline = Date.now() + 120_000;
    while ((await store.length()) < accepted.size + 1 && Date.now() < deadline) await sleep(100);
    const entries = (await store.allEntries())
      .map((s) => parseEntry(s).body)
      .filter((e) => e.id !== warmUp.header.id);
    const lags = entries.map((e) => e.recordedAt - e.acceptedAt).sort((a, b) => a - b);
    const ids = entries.map((e) => e.id);
    return {
      envelopes: accepted.size,
      sendSeconds,
      acceptedPerSecond: accepted.size / sendSeconds,
      lagMs: {
        p50: percentile(lags, 50),
        p99: percentile(lags, 99),
        max: lags.at(-1) ?? Number.NaN,
      },
      recordedOnce:
        new Set(ids).size === ids.length &&
        ids.length === accepted.size &&
        ids.every((id) => accepted.has(id)),
    };
  } finally {
    hub?.kill('SIGTERM');
    await gateway.close();
    await engine.destroy();
    await engine.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}
