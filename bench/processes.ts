// Every process a benchmark runs: Liaison gateways and the hub (the real `liaison` commands), the
// plain Socket.IO relay, and load agents. Each is its own OS process so their CPU and memory are
// separate, as they would be in production.
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stopChild, tracked } from './children.js';
import type { AgentReply, AgentRequest } from './load/messages.js';
import { AUDIENCE, type WorldPaths } from './world.js';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const root = join(import.meta.dirname, '..');
const TSX = ['--import', join(root, 'node_modules/tsx/dist/loader.mjs')];
/** `BENCH_CPU_PROF=dir npm run bench` writes a V8 CPU profile of every server process to dir. */
const PROFILE = process.env.BENCH_CPU_PROF
  ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF]
  : [];

/** A free loopback port, found by binding port 0 and letting it go. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Resident memory of a process in bytes, from /proc (Linux). */
export async function residentBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  if (!kib) throw new Error(`no VmRSS for ${pid}`);
  return Number(kib) * 1024;
}

/** CPU seconds (user + system) a process has used, from /proc (Linux). */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export interface Server {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/**
 * Waits until `url` answers; a process that exits or is not ready in time is stopped before the
 * error is thrown, so a failed start never leaves it behind.
 */
async function untilReady(
  url: string,
  child: ChildProcess,
  what: string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  await stopper(child)();
  throw new Error(`${what} did not become ready at ${url} within ${timeoutMs / 1000} s`);
}

function stopper(child: ChildProcess) {
  return () => stopChild(child);
}

/** `liaison gateway` on Redis, bootstrapped from the world's directory file. */
export async function startLiaisonGateway(
  paths: WorldPaths,
  prefix: string,
  instanceId: string,
  readyWithinMs?: number,
): Promise<Server> {
  const port = await freePort();
  const child = tracked(
    spawn(process.execPath, [...PROFILE, ...TSX, join(root, 'src/cli/main.ts'), 'gateway'], {
      env: {
        ...process.env,
        PORT: String(port),
        REDIS_URL,
        REDIS_PREFIX: prefix,
        GATEWAY_AUDIENCE: AUDIENCE,
        AUTHORITY_FILE: paths.authority,
        DIRECTORY_FILE: paths.directory,
        // A benchmark pair sends far above an office's real rate; the limit is not what is measured.
        RATE_LIMIT_PER_MINUTE: '1000000',
        RETENTION_DAYS: '1',
        LOG_LEVEL: 'warn',
        INSTANCE_ID: instanceId,
        SHUTDOWN_GRACE_MS: '1000',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  await untilReady(`${url}/readyz`, child, `gateway ${instanceId}`, readyWithinMs);
  return { url, pid: child.pid as number, stop: stopper(child) };
}

/** `liaison hub run`: one hub replica reading the gateway's stream. */
export async function startHub(paths: WorldPaths, prefix: string): Promise<Server> {
  const port = await freePort();
  const child = tracked(
    spawn(process.execPath, [...PROFILE, ...TSX, join(root, 'src/cli/main.ts'), 'hub', 'run'], {
      env: {
        ...process.env,
        REDIS_URL,
        REDIS_PREFIX: prefix,
        HUB_PORT: String(port),
        LOG_LEVEL: 'warn',
        AUTHORITY_FILE: paths.authority,
        HUB_KEY_FILE: paths.hubKey,
        HUB_CONSUMER: 'bench-hub',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  await untilReady(`${url}/healthz`, child, 'hub');
  return { url, pid: child.pid as number, stop: stopper(child) };
}

/** The plain Socket.IO relay with the Redis adapter (bench/baseline-relay.ts). */
export async function startBaseline(channelPrefix: string): Promise<Server> {
  const port = await freePort();
  const child = tracked(
    spawn(process.execPath, [...PROFILE, ...TSX, join(import.meta.dirname, 'baseline-relay.ts')], {
      env: {
        ...process.env,
        PORT: String(port),
        REDIS_URL,
        CHANNEL_PREFIX: channelPrefix,
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  await untilReady(`${url}/healthz`, child, 'baseline relay');
  return { url, pid: child.pid as number, stop: stopper(child) };
}

/** A load agent: a process of real Socket.IO clients, driven by request/reply over IPC. */
export class Agent {
  private readonly child: ChildProcess;
  private readonly waiting = new Map<number, (reply: AgentReply) => void>();
  private nextId = 1;

  constructor(readonly name: string) {
    this.child = tracked(
      fork(join(import.meta.dirname, 'load/agent.ts'), [name], {
        execArgv: TSX,
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        serialization: 'advanced',
      }),
    );
    this.child.on('message', (message: { id: number; reply: AgentReply }) => {
      this.waiting.get(message.id)?.(message.reply);
      this.waiting.delete(message.id);
    });
    this.child.on('exit', (code) => {
      for (const resolve of this.waiting.values()) {
        resolve({ type: 'error', message: `agent ${name} exited with ${code}` });
      }
      this.waiting.clear();
    });
  }

  get pid(): number {
    return this.child.pid as number;
  }

  /** Sends a request and resolves with its reply; an agent-side failure rejects. */
  async ask<T extends AgentReply['type']>(
    request: AgentRequest,
  ): Promise<Extract<AgentReply, { type: T }>> {
    const id = this.nextId++;
    const reply = await new Promise<AgentReply>((resolve) => {
      this.waiting.set(id, resolve);
      this.child.send({ id, request });
    });
    if (reply.type === 'error') throw new Error(`agent ${this.name}: ${reply.message}`);
    return reply as Extract<AgentReply, { type: T }>;
  }

  stop(): Promise<void> {
    return stopChild(this.child, 5_000);
  }
}

/** Splits `items` into `n` interleaved shares, one per agent. */
export function share<T>(items: readonly T[], n: number): T[][] {
  const shares: T[][] = Array.from({ length: n }, () => []);
  items.forEach((item, i) => {
    shares[i % n]?.push(item);
  });
  return shares;
}
