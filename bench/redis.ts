// The benchmark's own Redis: a throwaway `redis-server` on a random loopback port, no
// persistence, so its CPU is this run's alone (the shared one on 6379 also serves other work).
import { type ChildProcess, spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { stopChild, tracked } from './children.js';

export interface OwnRedis {
  readonly url: string;
  stop(): Promise<void>;
}

const answers = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => {
      socket.end();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

/** Starts redis-server; undefined (and the shared Redis is used) when it is not installed. */
export async function startOwnRedis(): Promise<OwnRedis | undefined> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 40_000);
    if (await answers(port)) continue;
    // Tracked: whatever ends the benchmark (an error, a signal), this Redis ends with it, after
    // the processes that use it.
    const child: ChildProcess = tracked(
      spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        { stdio: 'ignore' },
      ),
      { last: true },
    );
    const failed = new Promise<boolean>((resolve) => {
      child.once('error', () => resolve(true));
      child.once('exit', () => resolve(true));
    });
    for (let i = 0; i < 50; i++) {
      if (await Promise.race([failed, sleep(100).then(() => false)])) break;
      if (await answers(port)) {
        return { url: `redis://127.0.0.1:${port}`, stop: () => stopChild(child, 5_000) };
      }
    }
    // Not installed (spawn failed): the shared Redis is used. Not answering: try another port.
    if (child.pid === undefined) return undefined;
    await stopChild(child, 5_000);
  }
  return undefined;
}
