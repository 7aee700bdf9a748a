import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const SCRIPT = join(import.meta.dirname, '..', '..', 'scripts', 'build-if-stale.mjs');

/** `npm start`'s prestart: the build runs when a source changed, not on every start. */
describe('npm start builds only what changed', () => {
  let root: string;
  // A stand-in for `npm run build` that counts its runs, so the test sees each build.
  const build = `node -e "const f=require('fs');f.mkdirSync('dist',{recursive:true});f.appendFileSync('dist/builds','x')"`;
  const start = () => run(process.execPath, [SCRIPT, '--root', root, '--build', build]);
  const builds = async () => (await readFile(join(root, 'dist', 'builds'), 'utf8')).length;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'liaison-build-'));
    await mkdir(join(root, 'src'));
    await writeFile(join(root, 'src', 'main.ts'), 'export {};\n');
    await writeFile(join(root, 'package.json'), '{}\n');
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('builds the first time, not the second, and again after a source changed', async () => {
    expect((await start()).stderr).toContain('no build yet: building');
    expect(await builds()).toBe(1);
    expect((await start()).stderr).toContain('build is up to date');
    expect(await builds()).toBe(1);
    const later = new Date(Date.now() + 5_000);
    await utimes(join(root, 'src', 'main.ts'), later, later);
    expect((await start()).stderr).toContain('sources changed: building');
    expect(await builds()).toBe(2);
  });

  it('a failed build says what to do and fails the start', async () => {
    const later = new Date(Date.now() + 10_000);
    await utimes(join(root, 'package.json'), later, later);
    const failing = run(process.execPath, [
      SCRIPT,
      '--root',
      root,
      '--build',
      'node -e "process.exit(3)"',
    ]);
    await expect(failing).rejects.toMatchObject({
      stderr: expect.stringContaining('the build failed'),
    });
  });

  it('a start stopped during the build leaves no compiler running', async () => {
    const later = new Date(Date.now() + 15_000);
    await utimes(join(root, 'package.json'), later, later);
    // A build that never ends by itself and says which process it is.
    const endless = `node -e "require('fs').writeFileSync('dist/build.pid',String(process.pid));setInterval(()=>{},1000)"`;
    await rm(join(root, 'dist', 'build.pid'), { force: true });
    const starting = spawn(process.execPath, [SCRIPT, '--root', root, '--build', endless]);
    let stderr = '';
    starting.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((done) => starting.once('exit', done));
    let pid = 0;
    const alive = () => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    try {
      for (let i = 0; i < 1200 && !pid; i++) {
        pid = Number(await readFile(join(root, 'dist', 'build.pid'), 'utf8').catch(() => '0'));
        if (!pid) await sleep(50);
      }
      expect(pid).toBeGreaterThan(0);
      starting.kill('SIGTERM');
      expect(await exited).toBe(143);
      expect(stderr).toContain('the build was stopped (SIGTERM)');
      // The build's group was signalled before the script exited; wait for it to be reaped.
      for (let i = 0; i < 200 && alive(); i++) await sleep(50);
      expect(alive()).toBe(false);
    } finally {
      starting.kill('SIGKILL');
      if (pid && alive()) process.kill(pid, 'SIGKILL');
    }
  }, 120_000);
});
