// Scenario 2: send-to-receive latency at a fixed rate across two server instances sharing Redis.
// Senders talk to instance A, receivers to instance B, so every envelope crosses Redis pub/sub
// (Liaison's per-device channels; the baseline's Socket.IO Redis adapter). The clock is the
// machine's, read in the sending and the receiving process.
import type { Target } from '../load/messages.js';
import { type Server, startBaseline, startLiaisonGateway } from '../processes.js';
import { dropPrefix, type Latency, latencyOf, round } from '../stats.js';
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
import { collectReceived } from './throughput.js';

export interface LatencyRun {
  readonly target: Target;
  readonly perSecond: number;
  readonly achievedPerSecond: number;
  readonly accepted: number;
  readonly refused: Record<string, number>;
  readonly lost: number;
  readonly duplicated: number;
  readonly latencyMs: Latency;
}

async function runOnce(
  bench: Bench,
  target: Target,
  pairs: number,
  perSecond: number,
): Promise<LatencyRun> {
  const prefix = runPrefix('latency');
  const servers: Server[] = [];
  try {
    const start = (name: string) =>
      target === 'liaison' ? startLiaisonGateway(bench.paths, prefix, name) : startBaseline(prefix);
    const a = await start('bench-latency-a');
    servers.push(a);
    const b = await start('bench-latency-b');
    servers.push(b);
    const ids = Array.from({ length: pairs }, (_, i) => i);
    await connectAll(bench.receivers, {
      target,
      url: b.url,
      devices: ids.map(pairReceiver),
      receive: true,
    });
    await connectAll(bench.senders, {
      target,
      url: a.url,
      devices: ids.map(pairSender),
      receive: false,
    });
    const sent = await Promise.all(
      bench.senders.map((agent) =>
        agent.ask<'sent'>({
          type: 'send',
          mode: 'rate',
          perSecond: perSecond / bench.senders.length,
        }),
      ),
    );
    const sentAt = new Map(sent.flatMap((s) => s.sentAt));
    const { items: received } = await collectReceived(bench.receivers, sentAt.size);
    for (const agent of [...bench.senders, ...bench.receivers]) {
      await agent.ask({ type: 'disconnect' });
    }
    const latencies = received.flatMap(([id, , at]) => {
      const from = sentAt.get(id);
      return from === undefined ? [] : [at - from];
    });
    const firstAt = Math.min(...sent.map((s) => s.firstAt));
    const lastAckAt = Math.max(...sent.map((s) => s.lastAckAt));
    return {
      target,
      perSecond,
      achievedPerSecond: round(sentAt.size / ((lastAckAt - firstAt) / 1000)),
      accepted: sentAt.size,
      refused: mergeTallies(sent.map((s) => s.refused)),
      ...deliveryCheck(
        [...sentAt.keys()],
        received.map(([id]) => id),
      ),
      latencyMs: latencyOf(latencies),
    };
  } finally {
    for (const server of servers.reverse()) await server.stop();
    await dropPrefix(prefix);
  }
}

/** Sends `seconds` worth of envelopes at `perSecond` from `pairs` senders, baseline then Liaison. */
export async function latency(bench: Bench, pairs: number, perSecond: number, seconds: number) {
  const perSender = Math.ceil((perSecond * seconds) / pairs);
  const ids = Array.from({ length: pairs }, (_, i) => i);
  await sealAll(bench.senders, ids, (i) => ({
    sender: pairSender(i),
    to: pairOffice(i),
    count: perSender,
  }));
  const runs: LatencyRun[] = [];
  for (const target of TARGETS) runs.push(await runOnce(bench, target, pairs, perSecond));
  for (const agent of bench.senders) await agent.ask({ type: 'forget' });
  const liaison = runs.find((r) => r.target === 'liaison');
  if (
    liaison &&
    (liaison.lost > 0 || liaison.duplicated > 0 || Object.keys(liaison.refused).length)
  ) {
    bench.functionalErrors.push(
      `latency ${perSecond}/s: ${liaison.lost} lost, ${liaison.duplicated} duplicated, refused ${JSON.stringify(liaison.refused)}`,
    );
  }
  return runs;
}
