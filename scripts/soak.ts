// Soak: steady load through a gateway and the hub on a Redis of its own (AOF, noeviction), with
// periodic reconnects, a reader that stops reading and a fetch flood, for SOAK_SECONDS (default
// 600). Prints RSS of every process at start and end, and sent = delivered = recorded.
//   npm run soak            SOAK_SECONDS=120 npm run soak
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import type { Socket } from 'socket.io-client';
import { createClientToken } from '../src/crypto/token.js';
import { RedisEngine } from '../src/engine/redis.js';
import { startHub } from '../src/hub/service.js';
import { HubStore } from '../src/hub/store.js';
import { AUDIENCE, chat, connect, seal, startTestGateway } from '../test/fixtures/gateway.js';
import { openRawSocket, type RawSocket } from '../test/fixtures/raw-socket.js';
import { startTestRedis } from '../test/fixtures/redis-server.js';
import { buildWorld, device } from '../test/fixtures/world.js';

const seconds = Number(process.env.SOAK_SECONDS ?? 600);
const RECONNECT_EVERY_MS = 30_000;
const SENDS_PER_SECOND = 5; // per sending device
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

// Interrupted (Ctrl-C, a supervisor's SIGTERM): exit, which stops the soak's own redis-server
// (test/fixtures/redis-server.ts stops it on exit); the gateway and hub run in this process.
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
  ['SIGHUP', 129],
] as const)
  process.once(signal, () => process.exit(code));

const world = await buildWorld(Date.now());
const redis = await startTestRedis(['--maxmemory', '512mb', '--maxmemory-policy', 'noeviction']);
const admin = new Redis(redis.url);
const prefix = `liaison-soak:${randomUUID()}:`;
const engine = new RedisEngine({ url: redis.url, prefix, retentionMs: 3_600_000 });
const hubEngine = new RedisEngine({ url: redis.url, prefix, retentionMs: 3_600_000 });
const store = new HubStore(redis.url, prefix);
const gateway = await startTestGateway(engine, world, { rateLimitPerMinute: 100_000 });
const hub = await startHub(
  {
    host: '127.0.0.1',
    port: 0,
    audience: 'liaison-soak-hub',
    consumer: 'soak',
    deadlines: { FLASH: 300_000, IMMEDIATE: 1_800_000 },
    retentionMs: 3_600_000,
  },
  {
    engine: hubEngine,
    store,
    hubKeys: device(world, 'CARICC/hub'),
    authority: world.directory.authority,
    logger: pino({ level: 'silent' }),
  },
);

const rss = async () => ({
  node: process.memoryUsage().rss,
  redis: Number(/used_memory_rss:(\d+)/.exec(await admin.info('memory'))?.[1] ?? 0),
});
const start = await rss();

const sent = new Set<string>();
const delivered = new Map<string, Set<string>>(); // receiving device → ids
const errors: string[] = [];
const injected = { slowCuts: 0, fetchRefused: 0, reconnects: 0 };
let running = true;

/**
 * A device that sends to its linked office at a steady rate and reads what it is sent (pushes,
 * then a catch-up after each reconnect, acknowledged), reconnecting every RECONNECT_EVERY_MS.
 */
async function officeDevice(deviceId: string, to: string) {
  const got = new Set<string>();
  delivered.set(deviceId, got);
  let last = 0;
  while (running) {
    const socket = await connect(gateway, device(world, deviceId));
    const take = (offset: number, id: string) => {
      got.add(id);
      if (offset > last) last = offset;
    };
    socket.on('envelope', (d: { offset: number; envelope: { header: { id: string } } }) => {
      take(d.offset, d.envelope.header.id);
      socket.emit('inbox:ack', { upTo: d.offset }, () => {});
    });
    for (;;) {
      const page = await socket
        .timeout(30_000)
        .emitWithAck('inbox:fetch', { after: last, limit: 500 });
      if (!page.ok) break;
      for (const item of page.items) take(item.offset, item.envelope.header.id);
      if (page.items.length > 0) {
        await socket.timeout(30_000).emitWithAck('inbox:ack', { upTo: last });
      }
      if (!page.more) break;
    }
    const until = Date.now() + RECONNECT_EVERY_MS;
    while (running && Date.now() < until) {
      const envelope = await seal(world, device(world, deviceId), [to], chat(`soak ${sent.size}`));
      const ack = await socket.timeout(30_000).emitWithAck('envelope:send', envelope);
      if (ack.ok) sent.add(envelope.header.id);
      else errors.push(`send: ${ack.error.code}`);
      await sleep(1000 / SENDS_PER_SECOND);
    }
    socket.close();
    injected.reconnects++;
  }
}

/** A device that connects, stops reading, and is cut; again after each cut. */
async function slowReader(deviceId: string) {
  let raw: RawSocket | undefined;
  while (running) {
    raw = await openRawSocket(gateway.url, {
      token: await createClientToken(device(world, deviceId), { audience: AUDIENCE }),
    });
    raw.stopReading();
    await sleep(RECONNECT_EVERY_MS);
    raw.close();
  }
}

/** A device firing fetches without waiting for answers. */
async function fetchFlood(deviceId: string) {
  while (running) {
    const socket: Socket = await connect(gateway, device(world, deviceId));
    const until = Date.now() + RECONNECT_EVERY_MS;
    while (running && Date.now() < until) {
      const answers = await Promise.all(
        Array.from({ length: 50 }, () =>
          socket.timeout(30_000).emitWithAck('inbox:fetch', { after: 0, limit: 500 }),
        ),
      );
      for (const a of answers) {
        if (a.ok) continue;
        if (a.error.code === 'RATE_LIMITED') injected.fetchRefused++;
        else errors.push(`flood: ${a.error.code}`);
      }
      await sleep(100);
    }
    socket.close();
  }
}

const work = [
  officeDevice('KZ-KORDAI/desk-1', 'KG-AKZHOL'),
  officeDevice('KG-AKZHOL/desk-1', 'KZ-KORDAI'),
  slowReader('KG-AKZHOL/duty-1'),
  fetchFlood('KZ-KORDAI/duty-1'),
].map((p) => p.catch((error: Error) => errors.push(`task: ${error.message}`)));

console.log(`soak for ${seconds} s: gateway ${gateway.url}, hub ${hub.url}, redis ${redis.url}`);
await sleep(seconds * 1000);
running = false;
await Promise.all(work);
// Let the last pushes and the hub's recording settle, then each device catches up once more.
await sleep(3_000);
running = true;
await Promise.all(
  ['KZ-KORDAI/desk-1', 'KG-AKZHOL/desk-1'].map(async (deviceId) => {
    const socket = await connect(gateway, device(world, deviceId));
    const got = delivered.get(deviceId) ?? new Set<string>();
    let after = 0;
    for (;;) {
      const page = await socket.timeout(30_000).emitWithAck('inbox:fetch', { after, limit: 500 });
      if (!page.ok) break;
      for (const item of page.items) got.add(item.envelope.header.id);
      after = page.items.at(-1)?.offset ?? after;
      if (!page.more) break;
    }
    socket.close();
  }),
);
running = false;
const end = await rss();
const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
injected.slowCuts = Number(/liaison_slow_consumers_cut_total (\d+)/.exec(metrics)?.[1] ?? 0);

const deliveredOnce = [...sent].filter((id) =>
  [...delivered.values()].some((got) => got.has(id)),
).length;
// The one envelope each device may have had accepted while its last ack was lost at shutdown
// would show as recorded > sent: there is none, since every socket closes between sends.
const recorded = await store.record.length();
console.log(
  JSON.stringify(
    {
      seconds,
      rss: {
        node: { start: mib(start.node), end: mib(end.node) },
        redis: { start: mib(start.redis), end: mib(end.redis) },
      },
      sent: sent.size,
      delivered: deliveredOnce,
      recorded,
      injected,
      errors: errors.length,
      firstErrors: errors.slice(0, 5),
    },
    null,
    2,
  ),
);
await hub.close();
await gateway.close();
await store.close();
await engine.close();
await hubEngine.close();
admin.disconnect();
await redis.stop();
const ok = sent.size === deliveredOnce && sent.size === recorded && errors.length === 0;
process.exit(ok ? 0 : 1);
