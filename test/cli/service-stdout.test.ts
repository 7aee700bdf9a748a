import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { REDIS_URL } from '../fixtures/engines.js';
import { freePort } from '../fixtures/ports.js';

const root = join(import.meta.dirname, '..', '..');
const TSX_LOADER = join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs');

/** Log shippers read a service's stdout as JSON lines: nothing else may be printed there. */
describe('a running service', () => {
  let dir: string | undefined;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('`liaison gateway --dev` (gateway and hub) writes only pino JSON to stdout; notes go to stderr', {
    timeout: 120_000,
  }, async () => {
    dir = await mkdtemp(join(tmpdir(), 'liaison-stdout-'));
    const [port, hubPort] = [await freePort(), await freePort()];
    const child = spawn(
      process.execPath,
      ['--import', TSX_LOADER, join(root, 'src', 'cli', 'main.ts'), 'gateway', '--dev'],
      {
        cwd: dir,
        env: {
          PATH: process.env.PATH,
          REDIS_URL,
          PORT: String(port),
          HUB_PORT: String(hubPort),
          LOG_LEVEL: 'info',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    let prefix: string | undefined;
    try {
      let ready = false;
      for (let i = 0; i < 900 && !ready && child.exitCode === null; i++) {
        ready = await fetch(`http://127.0.0.1:${hubPort}/readyz`).then(
          (r) => r.ok,
          () => false,
        );
        if (!ready) await sleep(100);
      }
      expect(ready).toBe(true);
      const authority = JSON.parse(
        await readFile(join(dir, 'keys/dev/authority.pub.json'), 'utf8'),
      );
      prefix = `liaison-dev:${authority.keyId}:`;
      expect((await fetch(`http://127.0.0.1:${port}/v1/directory`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${port}/v1/inbox`, { method: 'POST' })).ok).toBe(false);
    } finally {
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      if (prefix) {
        const redis = new Redis(REDIS_URL);
        const keys = await redis.keys(`${prefix}*`);
        if (keys.length > 0) await redis.del(...keys);
        redis.disconnect();
      }
    }
    const lines = stdout.split('\n').filter((line) => line !== '');
    expect(lines.length).toBeGreaterThan(2);
    for (const line of lines) {
      const entry = JSON.parse(line);
      expect(entry).toMatchObject({ level: expect.any(Number), time: expect.any(Number) });
      expect(typeof entry.msg).toBe('string');
    }
    expect(lines.some((line) => line.includes('gateway listening'))).toBe(true);
    expect(stderr).toContain('created the development key set');
    expect(stderr).toContain('CARICC hub for analysts on');
  });
});
