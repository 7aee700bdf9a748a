// Every process the benchmark starts is registered here, so that none outlives the run on any way
// out of it: a normal end, an error (the `exit` handler) or a signal (SIGINT, SIGTERM, SIGHUP).
// Imported first by bench/index.ts, so the signal handlers are in place before anything starts.
import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

/** Running children; those started `last` (the benchmark's own Redis) are stopped after the rest. */
const started = new Map<ChildProcess, { last: boolean }>();

/** Remembers a child until it exits. `last`: stop it after every other child (they use it). */
export function tracked(child: ChildProcess, options: { last?: boolean } = {}): ChildProcess {
  started.set(child, { last: options.last ?? false });
  child.once('exit', () => started.delete(child));
  // A child that could not be started (no such binary) never exits: forget it as well.
  child.once('error', () => {
    if (child.pid === undefined) started.delete(child);
  });
  return child;
}

/** Stops one child: SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(graceMs)]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** Stops every child still running: the servers and agents first, then what they use. */
export async function stopEverything(): Promise<void> {
  const group = (last: boolean) =>
    [...started].filter(([, o]) => o.last === last).map(([child]) => child);
  await Promise.all(group(false).map((child) => stopChild(child)));
  await Promise.all(group(true).map((child) => stopChild(child, 5_000)));
}

// Last resort when the benchmark itself dies: an exit handler can only be synchronous.
process.once('exit', () => {
  for (const child of started.keys()) child.kill('SIGKILL');
});

// An interrupted run stops everything it started, then exits with the signal's code; a second
// signal while stopping exits at once (the exit handler still kills what is left).
const codes = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;
let stopping = false;
for (const [signal, code] of Object.entries(codes)) {
  process.on(signal, () => {
    if (stopping) process.exit(code);
    stopping = true;
    process.stderr.write(`\n${signal}: stopping every process the benchmark started\n`);
    void stopEverything().finally(() => process.exit(code));
  });
}
