// What every scenario gets: the world on disk, the load agents, and where to report a
// functional error (a lost or duplicated envelope), which fails the run whatever the timings.
import { randomUUID } from 'node:crypto';
import type { Target } from '../load/messages.js';
import { type Agent, share } from '../processes.js';
import { tally } from '../stats.js';
import type { WorldPaths, WorldShape } from '../world.js';

export interface Bench {
  readonly paths: WorldPaths;
  readonly shape: WorldShape;
  /** Agents that hold sending devices. */
  readonly senders: Agent[];
  /** Agents that hold receiving devices. */
  readonly receivers: Agent[];
  readonly quick: boolean;
  readonly functionalErrors: string[];
}

export const TARGETS: readonly Target[] = ['baseline', 'liaison'];

/** A fresh Redis prefix for one scenario's run, so runs never see each other's keys. */
export const runPrefix = (scenario: string) => `liaison-bench:${scenario}:${randomUUID()}:`;

/** Sums refusal tallies from several agents. */
export function mergeTallies(tallies: Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of tallies) for (const [k, v] of Object.entries(t)) out[k] = (out[k] ?? 0) + v;
  return out;
}

/** Compares what was accepted with what arrived: every accepted id exactly once. */
export function deliveryCheck(accepted: readonly string[], received: readonly string[]) {
  const counts = tally(received);
  const lost = accepted.filter((id) => !counts.has(id)).length;
  const duplicated = [...counts.values()].filter((n) => n > 1).length;
  return { lost, duplicated };
}

/** Spreads devices over agents and connects them all; resolves with each agent's reply. */
export function connectAll(
  agents: readonly Agent[],
  request: {
    target: Target;
    url: string;
    devices: string[];
    receive: boolean;
    concurrency?: number;
  },
) {
  return Promise.all(
    share(request.devices, agents.length).map((mine, a) =>
      (agents[a] as Agent).ask<'connected'>({
        type: 'connect',
        target: request.target,
        url: request.url,
        devices: mine,
        receive: request.receive,
        concurrency: request.concurrency ?? 50,
      }),
    ),
  );
}

/** Has the sending agents seal, each for its share of `items`, what `plan` says for each. */
export function sealAll<T>(
  senders: readonly Agent[],
  items: readonly T[],
  plan: (item: T) => { sender: string; to: string; count: number },
) {
  return Promise.all(
    share(items, senders.length).map((mine, a) =>
      (senders[a] as Agent).ask<'sealed'>({ type: 'seal', plan: mine.map(plan) }),
    ),
  );
}
