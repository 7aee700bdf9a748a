// What every scenario gets: the world on disk, the load agents, and where to report a
// functional error (a lost or duplicated envelope), which fails the run whatever the timings.
import { randomUUID } from 'node:crypto';
import type { Target } from '../load/messages.js';
import type { Agent } from '../processes.js';
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
