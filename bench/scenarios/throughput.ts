// Scenario 1 (relay throughput) and 5 (hub lag): N linked pairs send as fast as acks allow, each
// sender keeping WINDOW envelopes in flight; one receiving device per pair is online. On Liaison
// everything is persisted (per envelope: its body once, a reference in each of two inboxes, and
// the hub stream) and a hub replica records
// the channel as it runs; the record's recordedAt − acceptedAt is the hub lag.
import { setTimeout as sleep } from 'node:timers/promises';
import { parseEntry } from '../../src/hub/record.js';
import { HubStore } from '../../src/hub/store.js';
import type { Target } from '../load/messages.js';
import {
  type Agent,
  cpuSeconds,
  REDIS_URL,
  type Server,
  startBaseline,
  startHub,
  startLiaisonGateway,
} from '../processes.js';
import {
  commandsPerEnvelope,
  dropPrefix,
  type Latency,
  latencyOf,
  redisCounters,
  round,
} from '../stats.js';
import { pairOffice, pairReceiver, pairSender } from '../world.js';
import {
  type Bench,
  connectAll,
  deliveryCheck,
  mergeTallies,
  runPrefix,
  sealAll,
  TARGETS,
} from './context.js';

export const WINDOW = 4;

export interface ThroughputRun {
  readonly target: Target;
  readonly pairs: number;
  readonly accepted: number;
  readonly refused: Record<string, number>;
  readonly delivered: number;
  /** Receiving sockets the gateway cut (slow consumers); each resumed from its inbox. */
  readonly cuts: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly seconds: number;
  readonly acceptedPerSecond: number;
  readonly deliveredPerSecond: number;
  /** CPU milliseconds the server process used per accepted envelope while sending. */
  readonly serverCpuMsPerEnvelope: number;
  /** The same for the hub replica recording beside it (Liaison only). */
  readonly hubCpuMsPerEnvelope?: number;
  /** Redis's CPU milliseconds per accepted envelope over the same span (INFO used_cpu). */
  readonly redisCpuMsPerEnvelope: number;
  /** Per accepted envelope, each Redis command's calls and CPU µs over the same span. */
  readonly redisCommands: ReturnType<typeof commandsPerEnvelope>;
  /** The load agents' CPU (senders sealing nothing here, receivers) per envelope, same span. */
  readonly loadCpuMsPerEnvelope: number;
  /** Server + hub + Redis: what the machine paid per envelope, the load processes aside. */
  readonly machineCpuMsPerEnvelope: number;
  /** Paced runs: the rate asked for (envelopes/s, all senders together). */
  readonly offeredPerSecond?: number;
  /** Accepted envelopes over the time from the first send until the hub recorded the last. */
  readonly recordedPerSecond?: number;
  readonly hubLagMs?: Latency & { recorded: number; recordedOnce: boolean; lastRecordedAt: number };
}

/** Collects pushed envelopes from the receiving agents until `expected` arrived or it stalls. */
export async function collectReceived(agents: Agent[], expected: number) {
  const items: [string, string, number][] = [];
  let cuts = 0;
  let quietSince = Date.now();
  while (items.length < expected && Date.now() - quietSince < 5_000) {
    const before = items.length;
    cuts = 0;
    for (const agent of agents) {
      const reply = await agent.ask<'received'>({ type: 'received' });
      items.push(...reply.items);
      cuts += reply.cuts;
    }
    if (items.length > before) quietSince = Date.now();
    else await sleep(100);
  }
  return { items, cuts };
}

async function hubLag(prefix: string, accepted: Set<string>) {
  const store = new HubStore(REDIS_URL, prefix);
  try {
    const deadline = Date.now() + 180_000;
    while ((await store.record.length()) < accepted.size && Date.now() < deadline) await sleep(200);
    const entries = (await store.record.allEntries()).map((s) => parseEntry(s).body);
    const ids = entries.map((e) => e.id);
    return {
      lastRecordedAt: Math.max(...entries.map((e) => e.recordedAt)),
      ...latencyOf(entries.map((e) => e.recordedAt - e.acceptedAt)),
      recorded: entries.length,
      recordedOnce:
        new Set(ids).size === ids.length &&
        ids.length === accepted.size &&
        ids.every((id) => accepted.has(id)),
    };
  } finally {
    await store.close();
  }
}

/** How the senders send: as fast as acks allow, or paced at a rate (all senders together). */
export type Pace = { mode: 'window' } | { mode: 'rate'; perSecond: number };

async function runOnce(
  bench: Bench,
  target: Target,
  pairs: number,
  pace: Pace = { mode: 'window' },
): Promise<ThroughputRun> {
  const prefix = runPrefix('throughput');
  const servers: Server[] = [];
  try {
    const server =
      target === 'liaison'
        ? await startLiaisonGateway(bench.paths, prefix, 'bench-throughput')
        : await startBaseline(prefix);
    servers.push(server);
    if (target === 'liaison') servers.push(await startHub(bench.paths, prefix));
    const ids = Array.from({ length: pairs }, (_, i) => i);
    const { url } = server;
    await connectAll(bench.receivers, {
      target,
      url,
      devices: ids.map(pairReceiver),
      receive: true,
    });
    await connectAll(bench.senders, { target, url, devices: ids.map(pairSender), receive: false });

    const hub = servers[1];
    const cpuBefore = await cpuSeconds(server.pid);
    const hubCpuBefore = hub ? await cpuSeconds(hub.pid) : 0;
    const redisBefore = await redisCounters();
    const agents = [...bench.senders, ...bench.receivers];
    const agentCpu = async () => {
      let sum = 0;
      for (const agent of agents) sum += await cpuSeconds(agent.pid);
      return sum;
    };
    const loadBefore = await agentCpu();
    const sent = await Promise.all(
      bench.senders.map((agent) =>
        agent.ask<'sent'>(
          pace.mode === 'window'
            ? { type: 'send', mode: 'window', window: WINDOW }
            : { type: 'send', mode: 'rate', perSecond: pace.perSecond / bench.senders.length },
        ),
      ),
    );
    const cpuAfter = await cpuSeconds(server.pid);
    const hubCpuAfter = hub ? await cpuSeconds(hub.pid) : 0;
    const loadCpu = (await agentCpu()) - loadBefore;
    const redisAfter = await redisCounters();
    const redisCpu = redisAfter.cpuSeconds - redisBefore.cpuSeconds;
    const acceptedIds = sent.flatMap((s) => s.sentAt.map(([id]) => id));
    const firstAt = Math.min(...sent.map((s) => s.firstAt));
    const lastAckAt = Math.max(...sent.map((s) => s.lastAckAt));
    const { items: received, cuts } = await collectReceived(bench.receivers, acceptedIds.length);
    const lastReceivedAt = Math.max(firstAt, ...received.map(([, , at]) => at));
    const { lost, duplicated } = deliveryCheck(
      acceptedIds,
      received.map(([id]) => id),
    );
    for (const agent of [...bench.senders, ...bench.receivers])
      await agent.ask({ type: 'disconnect' });
    const seconds = (lastAckAt - firstAt) / 1000;
    const perEnvelope = (cpu: number) => round((cpu * 1000) / acceptedIds.length, 3);
    const lag = target === 'liaison' ? await hubLag(prefix, new Set(acceptedIds)) : undefined;
    return {
      target,
      pairs,
      accepted: acceptedIds.length,
      refused: mergeTallies(sent.map((s) => s.refused)),
      delivered: received.length,
      cuts,
      lost,
      duplicated,
      seconds: round(seconds, 2),
      acceptedPerSecond: round(acceptedIds.length / seconds),
      deliveredPerSecond: round(received.length / ((lastReceivedAt - firstAt) / 1000)),
      serverCpuMsPerEnvelope: round(((cpuAfter - cpuBefore) * 1000) / acceptedIds.length, 3),
      ...(hub
        ? {
            hubCpuMsPerEnvelope: round(
              ((hubCpuAfter - hubCpuBefore) * 1000) / acceptedIds.length,
              3,
            ),
          }
        : {}),
      redisCpuMsPerEnvelope: perEnvelope(redisCpu),
      loadCpuMsPerEnvelope: perEnvelope(loadCpu),
      redisCommands: commandsPerEnvelope(
        redisBefore.commandStats,
        redisAfter.commandStats,
        acceptedIds.length,
      ),
      machineCpuMsPerEnvelope: perEnvelope(
        cpuAfter - cpuBefore + (hubCpuAfter - hubCpuBefore) + redisCpu,
      ),
      ...(pace.mode === 'rate' ? { offeredPerSecond: pace.perSecond } : {}),
      ...(lag
        ? {
            hubLagMs: lag,
            recordedPerSecond: round(acceptedIds.length / ((lag.lastRecordedAt - firstAt) / 1000)),
          }
        : {}),
    };
  } finally {
    for (const server of servers.reverse()) await server.stop();
    await dropPrefix(prefix);
  }
}

/**
 * Seals `envelopes` 1 KiB chats spread over `pairs` senders, then sends the same envelopes through
 * the plain relay and through Liaison.
 */
export async function throughput(bench: Bench, pairs: number, envelopes: number) {
  const perSender = Math.ceil(envelopes / pairs);
  const ids = Array.from({ length: pairs }, (_, i) => i);
  await sealAll(bench.senders, ids, (i) => ({
    sender: pairSender(i),
    to: pairOffice(i),
    count: perSender,
  }));
  const runs: ThroughputRun[] = [];
  for (const target of TARGETS) runs.push(await runOnce(bench, target, pairs));
  for (const agent of bench.senders) await agent.ask({ type: 'forget' });
  for (const run of runs) {
    if (run.target !== 'liaison') continue;
    if (run.lost > 0 || run.duplicated > 0 || Object.keys(run.refused).length > 0) {
      bench.functionalErrors.push(
        `throughput N=${pairs}: ${run.lost} lost, ${run.duplicated} duplicated, refused ${JSON.stringify(run.refused)}`,
      );
    }
    if (run.hubLagMs && !run.hubLagMs.recordedOnce) {
      bench.functionalErrors.push(
        `throughput N=${pairs}: the hub recorded ${run.hubLagMs.recorded} of ${run.accepted} envelopes, not each exactly once`,
      );
    }
  }
  return runs;
}

/**
 * Scenario 8, sustained: Liaison paced at each rate for `seconds`, the hub recording beside it.
 * The highest rate it accepts in full while the hub's lag stays under 1 s at p99 is what it
 * sustains; BENCHMARKS.md compares it with the plain relay's throughput of the same run.
 */
export async function sustained(
  bench: Bench,
  pairs: number,
  rates: readonly number[],
  seconds: number,
): Promise<ThroughputRun[]> {
  const ids = Array.from({ length: pairs }, (_, i) => i);
  const runs: ThroughputRun[] = [];
  for (const perSecond of rates) {
    await sealAll(bench.senders, ids, (i) => ({
      sender: pairSender(i),
      to: pairOffice(i),
      count: Math.ceil((perSecond * seconds) / pairs),
    }));
    const run = await runOnce(bench, 'liaison', pairs, { mode: 'rate', perSecond });
    for (const agent of bench.senders) await agent.ask({ type: 'forget' });
    runs.push(run);
    if (run.lost > 0 || run.duplicated > 0 || !run.hubLagMs?.recordedOnce) {
      bench.functionalErrors.push(
        `sustained ${perSecond}/s: ${run.lost} lost, ${run.duplicated} duplicated, hub recorded ${run.hubLagMs?.recorded} of ${run.accepted}`,
      );
    }
  }
  return runs;
}
