// Soak: steady load through two gateway processes and a hub process (`liaison gateway`, `liaison
// hub run`) on a Redis process of its own (AOF, noeviction): both desks of the five sample links
// sending to each other, with periodic reconnects that alternate between the gateways, one heavy
// direction (32 KiB envelopes) towards a reader that stops reading, and a fetch flood, for
// SOAK_SECONDS (default 600). Prints the RSS of every process at start and end, and
// sent = delivered = recorded; exits 1 unless those agree, nothing but the injected faults
// failed, and no server grew by more than RSS_GROWTH_BOUND_MIB.
//   npm run soak            SOAK_SECONDS=120 npm run soak
import { setTimeout as sleep } from 'node:timers/promises';
import type { Socket } from 'socket.io-client';
import { createClientToken } from '../src/crypto/token.js';
import { HUB_AUDIENCE, makeDeployment } from '../test/fixtures/deployment.js';
import { AUDIENCE, chat, connect, seal } from '../test/fixtures/gateway.js';
import { metric } from '../test/fixtures/metrics.js';
import { freePort } from '../test/fixtures/ports.js';
import {
  rssOf,
  type ServerProcess,
  startGatewayProcess,
  startHubProcess,
  stopProcess,
} from '../test/fixtures/processes.js';
import { openRawSocket, type RawSocket } from '../test/fixtures/raw-socket.js';
import { startTestRedis } from '../test/fixtures/redis-server.js';
import { device } from '../test/fixtures/world.js';

const seconds = Number(process.env.SOAK_SECONDS ?? 600);
const RECONNECT_EVERY_MS = 30_000;
const SENDS_PER_SECOND = 2; // per sending desk; ten of them
/**
 * Kordai's desk sends 32 KiB envelopes to Ak-Zhol, whose duty device stops reading and is cut:
 * a chat's longest text (8,000 characters) of three-byte ones, sealed and in base64.
 */
const HEAVY = { text: '語'.repeat(8000), perSecond: 16 };
/** A server (gateway, hub) whose RSS grows by more than this over the run fails it. */
const RSS_GROWTH_BOUND_MIB = 150;
const mib = (bytes: number) => Math.round(bytes / 1024 / 1024);

// Interrupted (Ctrl-C, a supervisor's SIGTERM): exit, which stops the soak's own redis-server
// (test/fixtures/redis-server.ts) and its gateway and hub processes (test/fixtures/processes.ts).
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
  ['SIGHUP', 129],
] as const)
  process.once(signal, () => process.exit(code));

const redis = await startTestRedis(['--maxmemory', '1gb', '--maxmemory-policy', 'noeviction']);
const deployment = await makeDeployment(redis.url);
const ports = new Set<number>();
while (ports.size < 3) ports.add(await freePort());
const [firstPort, secondPort, hubPort] = [...ports] as [number, number, number];
const gateways = await Promise.all(
  [firstPort, secondPort].map((port) => startGatewayProcess(port, deployment.gatewayEnv)),
);
const hub = await startHubProcess(hubPort, deployment.hubEnv);
const processes: Record<string, number> = {
  'gateway-1': gateways[0]?.process.pid as number,
  'gateway-2': gateways[1]?.process.pid as number,
  hub: hub.process.pid as number,
  redis: redis.process.pid as number,
  driver: process.pid,
};
const rss = async () => {
  const out: Record<string, number> = {};
  for (const [name, pid] of Object.entries(processes)) out[name] = await rssOf(pid);
  return out;
};
const start = await rss();

/** Every accepted envelope's id, and the device of the office it was sent to that reads it. */
const sent = new Map<string, string>();
const delivered = new Map<string, Set<string>>(); // receiving device → ids
const errors: string[] = [];
const injected = { slowCuts: 0, fetchRefused: 0, reconnects: 0 };
let running = true;
const gatewayFor = (round: number) => gateways[round % gateways.length] as ServerProcess;

/**
 * A desk device that sends to its linked office at a steady rate and reads what it is sent
 * (pushes, then a catch-up after each reconnect, acknowledged), reconnecting every
 * RECONNECT_EVERY_MS to the other gateway.
 */
async function officeDevice(
  deviceId: string,
  to: string,
  reader: string,
  round: number,
  load = { text: 'soak', perSecond: SENDS_PER_SECOND },
) {
  const got = delivered.get(deviceId) ?? new Set<string>();
  delivered.set(deviceId, got);
  let last = 0;
  for (; running; round++) {
    const socket = await connect(gatewayFor(round), device(deployment, deviceId));
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
      const envelope = await seal(deployment, device(deployment, deviceId), [to], chat(load.text));
      const ack = await socket.timeout(30_000).emitWithAck('envelope:send', envelope);
      if (ack.ok) sent.set(envelope.header.id, reader);
      else errors.push(`send: ${ack.error.code}`);
      await sleep(1000 / load.perSecond);
    }
    socket.close();
    injected.reconnects++;
  }
}

/**
 * A device that connects and stops reading until it is cut (or for 40 s, before the ping
 * timeout would drop it), then connects as a client does and fetches and acknowledges its inbox;
 * again and again.
 */
async function slowReader(deviceId: string, gateway: ServerProcess) {
  while (running) {
    const raw: RawSocket = await openRawSocket(gateway.url, {
      token: await createClientToken(device(deployment, deviceId), { audience: AUDIENCE }),
    });
    raw.stopReading();
    const until = Date.now() + 40_000;
    while (
      running &&
      Date.now() < until &&
      !(await Promise.race([raw.closed.then(() => true), sleep(1000, false)]))
    ) {
      // reading nothing
    }
    raw.close();
    const socket = await connect(gateway, device(deployment, deviceId));
    for (;;) {
      const page = await socket
        .timeout(30_000)
        .emitWithAck('inbox:fetch', { after: 0, limit: 500 });
      if (!page.ok) errors.push(`slow reader fetch: ${page.error.code}`);
      const last = page.ok ? page.items.at(-1)?.offset : undefined;
      if (last === undefined) break;
      await socket.timeout(30_000).emitWithAck('inbox:ack', { upTo: last });
    }
    socket.close();
  }
}

/** A device firing fetches without waiting for answers. */
async function fetchFlood(deviceId: string, gateway: ServerProcess) {
  while (running) {
    const socket: Socket = await connect(gateway, device(deployment, deviceId));
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

// Both desks of every link send to each other; the Kordai/Ak-Zhol duty devices misbehave.
const desks = deployment.pairs.flatMap(([from, office, reader]) => [
  [from, office, reader] as const,
  [reader, from.split('/')[0] as string, from] as const,
]);
const work = [
  ...desks.map(([from, office, reader], i) =>
    officeDevice(from, office, reader, i, from === 'KZ-KORDAI/desk-1' ? HEAVY : undefined),
  ),
  slowReader('KG-AKZHOL/duty-1', gateways[0] as ServerProcess),
  fetchFlood('KZ-KORDAI/duty-1', gateways[1] as ServerProcess),
].map((p) => p.catch((error: Error) => errors.push(`task: ${error.message}`)));

console.log(
  `soak for ${seconds} s: gateways ${gateways.map((g) => g.url).join(' ')}, hub ${hub.url}, redis ${redis.url}`,
);
await sleep(seconds * 1000);
running = false;
await Promise.all(work);

// The hub records the last envelopes, then each desk catches up once more.
for (let i = 0; i < 600 && (await metric(hub, 'liaison_hub_lag_seconds')) !== 0; i++) {
  await sleep(500);
}
await Promise.all(
  desks.map(async ([deviceId], i) => {
    const socket = await connect(gatewayFor(i), device(deployment, deviceId));
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
const end = await rss();
for (const gateway of gateways) {
  injected.slowCuts += await metric(gateway, 'liaison_slow_consumers_cut_total');
}

const deliveredCount = [...sent].filter(([id, reader]) => delivered.get(reader)?.has(id)).length;
const token = await createClientToken(device(deployment, 'CARICC/analyst-1'), {
  audience: HUB_AUDIENCE,
});
const verify = (await (
  await fetch(`${hub.url}/v1/record/verify`, { headers: { authorization: `Bearer ${token}` } })
).json()) as { ok: boolean; entries: number };
const rssTable = Object.fromEntries(
  Object.keys(processes).map((name) => [
    name,
    { startMiB: mib(start[name] ?? 0), endMiB: mib(end[name] ?? 0) },
  ]),
);
const grewTooMuch = ['gateway-1', 'gateway-2', 'hub'].filter(
  (name) => mib((end[name] ?? 0) - (start[name] ?? 0)) > RSS_GROWTH_BOUND_MIB,
);
console.log(
  JSON.stringify(
    {
      seconds,
      rss: rssTable,
      rssGrowthBoundMiB: RSS_GROWTH_BOUND_MIB,
      grewTooMuch,
      sent: sent.size,
      delivered: deliveredCount,
      recorded: verify.entries,
      recordVerifies: verify.ok,
      injected,
      errors: errors.length,
      firstErrors: errors.slice(0, 5),
    },
    null,
    2,
  ),
);
await stopProcess(hub.process, 'SIGTERM');
for (const gateway of gateways) await stopProcess(gateway.process, 'SIGTERM');
await deployment.destroy();
await redis.stop();
const ok =
  sent.size === deliveredCount &&
  sent.size === verify.entries &&
  verify.ok &&
  errors.length === 0 &&
  grewTooMuch.length === 0;
process.exit(ok ? 0 : 1);
