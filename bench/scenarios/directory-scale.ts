// Scenario 7: directory scaling. A signed directory of N devices (offices in linked pairs, three
// devices a pair) is written to a file; `liaison gateway` starts from it on an empty Redis prefix
// (it verifies the log, writes it to Redis in chunks, reads it back) and we time it until /readyz
// answers, then read its resident memory. RSS per device is taken against a 1-pair directory
// started the same way, so the process's own baseline is not counted.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { residentBytes, type Server, startLiaisonGateway } from '../processes.js';
import { dropPrefix, round } from '../stats.js';
import { writeWorld } from '../world.js';
import { runPrefix } from './context.js';

export interface DirectoryRun {
  readonly devices: number;
  readonly statements: number;
  /** From spawning the process until it answered /readyz. */
  readonly readySeconds: number;
  readonly rssMiB: number;
  /** (RSS − RSS with a one-pair directory) / devices. */
  readonly kibPerDevice: number;
}

/** Devices of a world with `pairs` idle pairs: three a pair, plus the hub. */
const devicesOf = (pairs: number) => pairs * 3 + 1;

async function startOnce(pairs: number) {
  const dir = await mkdtemp(join(tmpdir(), 'liaison-bench-directory-'));
  const prefix = runPrefix('directory');
  let server: Server | undefined;
  try {
    const paths = await writeWorld(dir, { pairs: 0, idleOffices: pairs });
    const start = performance.now();
    server = await startLiaisonGateway(paths, prefix, `directory-${pairs}`, 180_000);
    const readySeconds = (performance.now() - start) / 1000;
    const rss = await residentBytes(server.pid);
    return { readySeconds, rss, statements: 1 + 1 + pairs * 6 };
  } finally {
    await server?.stop();
    await dropPrefix(prefix);
    await rm(dir, { recursive: true, force: true });
  }
}

export async function directoryScale(deviceCounts: readonly number[]): Promise<DirectoryRun[]> {
  const base = await startOnce(1);
  const runs: DirectoryRun[] = [];
  for (const devices of deviceCounts) {
    const pairs = Math.ceil((devices - 1) / 3);
    const run = await startOnce(pairs);
    runs.push({
      devices: devicesOf(pairs),
      statements: run.statements,
      readySeconds: round(run.readySeconds, 1),
      rssMiB: round(run.rss / 2 ** 20, 1),
      kibPerDevice: round((run.rss - base.rss) / 1024 / devicesOf(pairs), 2),
    });
  }
  return runs;
}
