import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const LOADER = join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs');
const CHILDREN = join(root, 'bench', 'children.ts');

const alive = (pid: number) => {
  // Never 0 or less: that would name a whole process group.
  if (!(pid > 0)) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** A benchmark stand-in: starts one long-running child through bench/children.ts, then `then`. */
const runner = (then: string) => `
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tracked } from ${JSON.stringify(CHILDREN)};
const child = tracked(spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' }));
writeFileSync(process.argv[2], String(child.pid));
${then}
`;

/** No process the benchmark starts outlives it, however it ends. */
describe('the benchmark stops what it started', () => {
  let dir: string;
  const pids: number[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'liaison-bench-children-'));
  });
  afterAll(async () => {
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  /** Runs a stand-in; resolves with its exit code and its child's pid once the child started. */
  async function run(name: string, then: string, signal?: NodeJS.Signals) {
    // .mts: an ES module wherever it lies (top-level await), outside this package too.
    const file = join(dir, `${name}.mts`);
    const pidFile = join(dir, `${name}.pid`);
    await writeFile(file, runner(then));
    const bench = spawn(process.execPath, ['--import', LOADER, file, pidFile], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    bench.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((done) => bench.once('exit', done));
    let pid = 0;
    for (let i = 0; i < 1200 && !pid; i++) {
      pid = Number(await readFile(pidFile, 'utf8').catch(() => '0'));
      if (!pid) await sleep(50);
    }
    pids.push(pid);
    if (!pid) bench.kill('SIGKILL');
    else if (signal) bench.kill(signal);
    const code = await exited;
    for (let i = 0; i < 200 && alive(pid); i++) await sleep(50);
    return { code, pid, stderr };
  }

  it('interrupted (SIGINT), it stops its children and exits 130', {
    timeout: 120_000,
  }, async () => {
    const { code, pid, stderr } = await run(
      'interrupted',
      'setInterval(() => {}, 1000);',
      'SIGINT',
    );
    expect(pid).toBeGreaterThan(0);
    expect(code).toBe(130);
    expect(stderr).toContain('stopping every process the benchmark started');
    expect(alive(pid)).toBe(false);
  });

  it('failing (an uncaught error), it leaves no child behind', { timeout: 120_000 }, async () => {
    const { code, pid } = await run(
      'failing',
      "await new Promise((r) => setTimeout(r, 100)); throw new Error('scenario failed');",
    );
    expect(pid).toBeGreaterThan(0);
    expect(code).toBe(1);
    expect(alive(pid)).toBe(false);
  });
});
