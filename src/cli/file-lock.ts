import { randomUUID } from 'node:crypto';
import { link, open, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';

// An exclusive lock beside a file, shared by every process on this machine that uses it (the CLI's
// commands with one device key). The lock is `<path>.lock`, naming its holder (`pid host`); it
// is made whole with a hard link, so it never exists half written. A lock whose holder is a
// process of this host that is gone (killed, crashed) is taken over; one held by a live process
// is waited for, up to a bound, then refused with a clear error.

/** The lock beside a file could not be taken in time: another process holds it. */
export class FileLockTimeout extends Error {
  override readonly name = 'FileLockTimeout';
}

/** How long a command waits for the lock by default: holders keep it for one read and write. */
export const LOCK_WAIT_MS = 20_000;

// Locks (and take-overs) this process holds now: its own pid in one means it is one of these, or
// it is stale (left by an earlier process that had the same pid, as in a container).
const heldHere = new Set<string>();

/**
 * Runs `work` holding the lock beside `path`, and releases it after, whatever `work` does.
 *
 * @example
 * const counter = await withFileLock(`${keyFile}.state.json`, async () => reserveAndSave());
 */
export async function withFileLock<T>(
  path: string,
  work: () => Promise<T>,
  waitMs = LOCK_WAIT_MS,
): Promise<T> {
  const lock = `${path}.lock`;
  const mine = `${lock}.${process.pid}.${randomUUID()}`;
  await writeFile(mine, `${process.pid} ${hostname()}\n`, { mode: 0o600 });
  try {
    await acquire(lock, mine, Date.now() + waitMs);
  } finally {
    await unlink(mine).catch(() => undefined);
  }
  heldHere.add(lock);
  try {
    return await work();
  } finally {
    heldHere.delete(lock);
    await unlink(lock).catch(() => undefined);
  }
}

async function acquire(lock: string, mine: string, deadline: number): Promise<void> {
  for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
    try {
      await link(mine, lock);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = await holderOf(lock);
    if (holder === undefined || (await takeOverIfStale(lock, mine, holder))) continue;
    if (Date.now() > deadline) {
      throw new FileLockTimeout(
        `${lock} is held by process ${holder.pid ?? '?'} on ${holder.host ?? '?'}: another liaison command with this key is still running (if none is, delete that file)`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

interface Holder {
  readonly ino: number;
  readonly pid: number | undefined;
  readonly host: string | undefined;
}

/** Who holds the lock now (undefined: nobody, it was just released). */
async function holderOf(lock: string): Promise<Holder | undefined> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(lock, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const { ino } = await handle.stat();
    const [pid, host] = (await handle.readFile('utf8')).trim().split(' ');
    const n = Number(pid);
    return { ino, pid: Number.isSafeInteger(n) && n > 0 ? n : undefined, host };
  } finally {
    await handle.close();
  }
}

/** A holder that is certainly gone: a process of this host that no longer runs. */
function gone(lock: string, holder: Holder): boolean {
  if (holder.pid === undefined || holder.host !== hostname()) return false;
  if (holder.pid === process.pid) return !heldHere.has(lock);
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Removes a stale lock, once: taking over is itself exclusive (`<lock>.break`), and the lock is
 * removed only if it is still the stale one, so a process that saw the same dead holder never
 * removes the lock another took meanwhile. True when the lock may be free now.
 */
async function takeOverIfStale(lock: string, mine: string, holder: Holder): Promise<boolean> {
  if (!gone(lock, holder)) return false;
  const breaker = `${lock}.break`;
  try {
    await link(mine, breaker);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    // Someone else is taking it over; a taker that died doing so leaves its mark behind.
    const taker = await holderOf(breaker);
    if (taker !== undefined && gone(breaker, taker)) await unlink(breaker).catch(() => undefined);
    return false;
  }
  heldHere.add(breaker);
  try {
    const now = await holderOf(lock);
    if (now?.ino === holder.ino && now.pid === holder.pid && now.host === holder.host)
      await unlink(lock);
  } finally {
    heldHere.delete(breaker);
    await unlink(breaker).catch(() => undefined);
  }
  return true;
}
