// The lock beside a CLI state file (src/cli/file-lock.ts), alone: the processes that share it
// are in test/cli/concurrent-sends.test.ts.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileLockTimeout, withFileLock } from '../../src/cli/file-lock.js';

describe('the lock beside a state file', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'liaison-lock-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('lets one holder at a time read and write the file', async () => {
    const path = join(dir, 'count');
    await writeFile(path, '0');
    const bump = () =>
      withFileLock(path, async () => {
        const n = Number(await readFile(path, 'utf8'));
        await new Promise((r) => setImmediate(r));
        await writeFile(path, String(n + 1));
      });
    await Promise.all(Array.from({ length: 20 }, bump));
    expect(await readFile(path, 'utf8')).toBe('20');
    await expect(readFile(`${path}.lock`)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('is released when the work fails', async () => {
    const path = join(dir, 'failing');
    await expect(
      withFileLock(path, async () => {
        throw new Error('disk full');
      }),
    ).rejects.toThrow('disk full');
    expect(await withFileLock(path, async () => 'free again')).toBe('free again');
  });

  it('takes over a lock whose holder is gone, even if several wait for it', async () => {
    const path = join(dir, 'stale');
    await writeFile(path, '0');
    await writeFile(`${path}.lock`, `4194305 ${hostname()}\n`);
    const bump = () =>
      withFileLock(path, async () => {
        const n = Number(await readFile(path, 'utf8'));
        await writeFile(path, String(n + 1));
      });
    await Promise.all(Array.from({ length: 5 }, bump));
    expect(await readFile(path, 'utf8')).toBe('5');
  });

  it('waits for a live holder, then says who holds it', async () => {
    const path = join(dir, 'held');
    // The test runner's parent process: alive for as long as this test runs.
    await writeFile(`${path}.lock`, `${process.ppid} ${hostname()}\n`);
    const refused = withFileLock(path, async () => 'taken', 300);
    await expect(refused).rejects.toBeInstanceOf(FileLockTimeout);
    await expect(refused).rejects.toThrow(`held by process ${process.ppid}`);
    // Never taken over: it is still the live holder's.
    expect(await readFile(`${path}.lock`, 'utf8')).toBe(`${process.ppid} ${hostname()}\n`);
  });

  it('never takes over a lock from another host or one it cannot read', async () => {
    for (const [name, content] of [
      ['other-host', '4194305 another-host\n'],
      ['garbled', 'not a pid\n'],
    ] as const) {
      const path = join(dir, name);
      await writeFile(`${path}.lock`, content);
      await expect(withFileLock(path, async () => 'taken', 300)).rejects.toBeInstanceOf(
        FileLockTimeout,
      );
      expect(await readFile(`${path}.lock`, 'utf8')).toBe(content);
    }
  });
});
