// Small figures helpers shared by the scenarios.
import { Redis } from 'ioredis';
import { REDIS_URL } from './processes.js';

/** The p-th percentile of ascending values (nearest rank). */
export const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ??
  Number.NaN;

export const round = (value: number, digits = 0) => Number(value.toFixed(digits));

export interface Latency {
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

export function latencyOf(values: number[]): Latency {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    p50: round(percentile(sorted, 50), 2),
    p99: round(percentile(sorted, 99), 2),
    p999: round(percentile(sorted, 99.9), 2),
    max: round(sorted.at(-1) ?? Number.NaN, 2),
  };
}

/** Liaison's figure over the baseline's, to two decimals. */
export const ratio = (liaison: number, baseline: number) =>
  baseline > 0 ? round(liaison / baseline, 2) : Number.NaN;

/** Calls and CPU microseconds Redis spent per command (INFO commandstats), by command name. */
export type CommandStats = Record<string, { calls: number; usec: number }>;

/** Redis's own counters, to show the load a scenario puts on it. */
export async function redisCounters(): Promise<{
  commands: number;
  cpuSeconds: number;
  commandStats: CommandStats;
}> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true });
  try {
    await redis.connect();
    const info = await redis.info('all');
    const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1]);
    const commandStats: CommandStats = {};
    for (const [, name, calls, usec] of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm))
      commandStats[name as string] = { calls: Number(calls), usec: Number(usec) };
    return {
      commands: field('total_commands_processed'),
      cpuSeconds: field('used_cpu_sys') + field('used_cpu_user'),
      commandStats,
    };
  } finally {
    redis.disconnect();
  }
}

/**
 * Per envelope, what each command cost Redis between two readings: calls and CPU µs (Lua's
 * inner calls count under their own names as well as inside EVALSHA), the costliest first.
 */
export function commandsPerEnvelope(before: CommandStats, after: CommandStats, envelopes: number) {
  const rows: Record<string, { calls: number; usec: number }> = {};
  for (const [name, a] of Object.entries(after)) {
    const b = before[name] ?? { calls: 0, usec: 0 };
    if (a.calls === b.calls) continue;
    rows[name] = {
      calls: round((a.calls - b.calls) / envelopes, 2),
      usec: round((a.usec - b.usec) / envelopes, 2),
    };
  }
  return Object.fromEntries(Object.entries(rows).sort(([, x], [, y]) => y.usec - x.usec));
}

/** Deletes every Redis key under a prefix (each scenario uses its own). */
export async function dropPrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** Counts how often each value occurs, for loss and duplicate checks. */
export function tally(values: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}
