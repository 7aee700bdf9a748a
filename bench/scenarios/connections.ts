// Scenario 3 (idle connections) and 4 (reconnect storm), on one server process.
// 3: every idle device connects (Liaison: with its own signed token) and stays; the server's
//    resident memory before and after gives the cost of a connection.
// 4: the first STORM devices drop at once; while they are away their offices are sent 20
//    envelopes each; then all reconnect at once, fetch what is queued and acknowledge it. The
//    time until the last device has caught up, and what Redis did meanwhile, are the figures.
//    The plain relay keeps nothing, so for it only the reconnection is timed.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Target } from '../load/messages.js';
import {
  type Agent,
  residentBytes,
  type Server,
  share,
  startBaseline,
  startLiaisonGateway,
} from '../processes.js';
import { dropPrefix, redisCounters, round } from '../stats.js';
import { idleDevices, idleOffice, idleSender } from '../world.js';
import { type Bench, connectAll, mergeTallies, runPrefix, sealAll, TARGETS } from './context.js';
import { WINDOW } from './throughput.js';

export const QUEUED_PER_DEVICE = 20;

export interface ConnectionsRun {
  readonly target: Target;
  readonly connected: number;
  readonly refused: Record<string, number>;
  readonly connectSeconds: number;
  readonly rssBeforeMiB: number;
  readonly rssAfterMiB: number;
  readonly kibPerConnection: number;
  readonly storm: {
    readonly devices: number;
    readonly queuedPerDevice: number;
    readonly caughtUp: number;
    readonly refused: Record<string, number>;
    readonly seconds: number;
    readonly lost: number;
    readonly duplicated: number;
    readonly fetches: number;
    readonly redisCommands: number;
    readonly redisCpuSeconds: number;
  };
}

async function runOnce(
  bench: Bench,
  target: Target,
  stormOffices: number,
): Promise<ConnectionsRun> {
  const prefix = runPrefix('connections');
  let server: Server | undefined;
  const agents = [...bench.senders, ...bench.receivers];
  try {
    server =
      target === 'liaison'
        ? await startLiaisonGateway(bench.paths, prefix, 'bench-connections')
        : await startBaseline(prefix);
    const url = server.url;
    await sleep(1000);
    const rssBefore = await residentBytes(server.pid);
    const offices = Array.from({ length: bench.shape.idleOffices }, (_, j) => j);
    const devices = offices.flatMap(idleDevices);
    const started = performance.now();
    const connected = await connectAll(agents, {
      target,
      url,
      devices,
      receive: false,
      concurrency: 25,
    });
    const connectSeconds = (performance.now() - started) / 1000;
    await sleep(2000);
    const rssAfter = await residentBytes(server.pid);
    const count = connected.reduce((n, c) => n + c.connected, 0);

    // The storm. Everyone drops at once (the idle devices are spread over every agent).
    for (const agent of agents) await agent.ask({ type: 'disconnect' });
    const stormDevices = offices.slice(0, stormOffices).flatMap(idleDevices);
    const sentIds = new Map<string, string[]>();
    if (target === 'liaison') {
      const senders = offices.slice(0, stormOffices).map(idleSender);
      await connectAll(bench.senders, {
        target,
        url,
        devices: senders,
        receive: false,
        concurrency: 25,
      });
      const sent = await Promise.all(
        bench.senders.map((agent) =>
          agent.ask<'sent'>({ type: 'send', mode: 'window', window: WINDOW }),
        ),
      );
      for (const agent of bench.senders) await agent.ask({ type: 'disconnect' });
      for (const [id] of sent.flatMap((s) => s.sentAt)) sentIds.set(id, []);
    }
    const before = await redisCounters();
    const stormStarted = performance.timeOrigin + performance.now();
    const caught = await Promise.all(
      share(stormDevices, agents.length).map((mine, a) =>
        (agents[a] as Agent).ask<'caught-up'>({ type: 'catch-up', target, url, devices: mine }),
      ),
    );
    const after = await redisCounters();
    const ids = Object.values(Object.assign({}, ...caught.map((c) => c.ids))) as string[][];
    // Each device must have fetched exactly the QUEUED_PER_DEVICE envelopes sent to its office.
    let lost = 0;
    let duplicated = 0;
    if (target === 'liaison') {
      for (const list of ids) {
        const unique = new Set(list);
        duplicated += list.length - unique.size;
        lost += Math.max(0, QUEUED_PER_DEVICE - unique.size);
        for (const id of unique) if (!sentIds.has(id)) lost++;
      }
      lost += (stormDevices.length - ids.length) * QUEUED_PER_DEVICE;
    }
    for (const agent of agents) await agent.ask({ type: 'disconnect' });
    return {
      target,
      connected: count,
      refused: mergeTallies(connected.map((c) => c.refused)),
      connectSeconds: round(connectSeconds, 1),
      rssBeforeMiB: round(rssBefore / 2 ** 20, 1),
      rssAfterMiB: round(rssAfter / 2 ** 20, 1),
      kibPerConnection: round((rssAfter - rssBefore) / 1024 / Math.max(1, count), 1),
      storm: {
        devices: stormDevices.length,
        queuedPerDevice: target === 'liaison' ? QUEUED_PER_DEVICE : 0,
        caughtUp: ids.length,
        refused: mergeTallies(caught.map((c) => c.refused)),
        seconds: round((Math.max(...caught.map((c) => c.doneAt)) - stormStarted) / 1000, 2),
        lost,
        duplicated,
        fetches: caught.reduce((n, c) => n + c.fetches, 0),
        redisCommands: after.commands - before.commands,
        redisCpuSeconds: round(after.cpuSeconds - before.cpuSeconds, 2),
      },
    };
  } finally {
    await server?.stop();
    await dropPrefix(prefix);
  }
}

/** Seals the storm's envelopes (20 per storm office), then runs the scenarios on both targets. */
export async function connections(bench: Bench, stormOffices: number) {
  const offices = Array.from({ length: stormOffices }, (_, j) => j);
  await sealAll(bench.senders, offices, (j) => ({
    sender: idleSender(j),
    to: idleOffice(j),
    count: QUEUED_PER_DEVICE,
  }));
  const runs: ConnectionsRun[] = [];
  for (const target of TARGETS) runs.push(await runOnce(bench, target, stormOffices));
  for (const agent of bench.senders) await agent.ask({ type: 'forget' });
  const liaison = runs.find((r) => r.target === 'liaison');
  if (liaison) {
    const { storm } = liaison;
    if (liaison.connected !== bench.shape.idleOffices * 2) {
      bench.functionalErrors.push(
        `connections: ${liaison.connected} of ${bench.shape.idleOffices * 2} devices connected, refused ${JSON.stringify(liaison.refused)}`,
      );
    }
    if (storm.lost > 0 || storm.duplicated > 0 || storm.caughtUp !== storm.devices) {
      bench.functionalErrors.push(
        `reconnect storm: ${storm.caughtUp} of ${storm.devices} caught up, ${storm.lost} lost, ${storm.duplicated} duplicated, refused ${JSON.stringify(storm.refused)}`,
      );
    }
  }
  return runs;
}
