// Several one-shot commands with one device key at once (an operator's scripts, two terminals):
// each takes its own envelope counter from the state file beside the key, so a reader accepts
// every envelope instead of refusing the later ones as replays (ENVELOPE_REPLAYED).
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisEngine } from '../../src/engine/redis.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import { generateDevKeySet, keySetPaths } from '../../src/keystore/devset.js';
import { liaison } from '../fixtures/cli.js';
import { startDevSetGateway } from '../fixtures/dev-gateway.js';
import { REDIS_URL } from '../fixtures/engines.js';

const SENDER = 'KZ-KORDAI/desk-1';
const READER = 'KG-AKZHOL/desk-1';

interface SavedState {
  sequences?: {
    sent: Record<string, number>;
    received: Record<string, { high: number; missing: [number, number][] }>;
  };
}

describe('one device key in several CLI processes at once', () => {
  let dir: string;
  let paths: ReturnType<typeof keySetPaths>;
  let engine: RedisEngine;
  let gateway: Gateway;
  const common = () => ['--gateway', gateway.url, '--authority', paths.authorityPublic, '--json'];
  const state = async (deviceId: string): Promise<SavedState> =>
    JSON.parse(await readFile(`${paths.deviceKey(deviceId)}.state.json`, 'utf8'));
  const lines = (stdout: string) =>
    stdout
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as Record<string, unknown>);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'liaison-concurrent-'));
    await generateDevKeySet(dir);
    paths = keySetPaths(dir);
    engine = new RedisEngine({
      url: REDIS_URL,
      prefix: `liaison-test:${randomUUID()}:`,
      retentionMs: 600_000,
    });
    gateway = await startDevSetGateway(dir, engine);
  }, 120_000);
  afterAll(async () => {
    await gateway.close();
    await engine.destroy();
    await engine.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('alerts and a permission sent at once each get their own counter; the reader accepts all', {
    timeout: 300_000,
  }, async () => {
    // Four processes (a device's session limit per gateway), started together: three alerts and
    // a forwarding permission, all on the stream from this desk to Ak-Zhol.
    const key = ['--key', paths.deviceKey(SENDER)];
    const runs = await Promise.all([
      ...[1, 2, 3].map((n) =>
        liaison(['alert', 'KG-AKZHOL', ...key, ...common(), '--title', `Convoy ${n}`]),
      ),
      liaison([
        'permit',
        randomUUID(),
        '--holder',
        'KG-AKZHOL',
        '--to',
        'UZ-OYBEK',
        ...key,
        ...common(),
      ]),
    ]);
    for (const run of runs) {
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
    }
    const sent = runs.map((run) => lines(run.stdout).at(-1) as { id: string; status: string });
    expect(sent.every((s) => s.status === 'accepted')).toBe(true);

    // The sender's state file counted four, once each.
    const sender = await state(SENDER);
    const counters = Object.entries(sender.sequences?.sent ?? {}).filter(([s]) =>
      s.endsWith('>KG-AKZHOL'),
    );
    expect(counters.map(([, n]) => n)).toEqual([4]);

    // The reader: all four shown, none refused, counters 1 to 4 with none missing.
    const listed = await liaison(['inbox', '--key', paths.deviceKey(READER), ...common()]);
    expect(listed.stderr).toBe('');
    const events = lines(listed.stdout);
    expect(events.filter((e) => e.event === 'problem')).toEqual([]);
    const ids = events.filter((e) => e.office === 'KZ-KORDAI').map((e) => e.id);
    expect(new Set(ids)).toEqual(new Set(sent.map((s) => s.id)));
    const stream = (await state(READER)).sequences?.received[counters[0]?.[0] as string];
    expect(stream).toMatchObject({ high: 4, missing: [] });
  });

  it('a lock left behind by a process that is gone is taken over', {
    timeout: 300_000,
  }, async () => {
    const lock = `${paths.deviceKey(SENDER)}.state.json.lock`;
    // A pid no process has (beyond Linux's pid_max): as if the last holder was killed.
    await writeFile(lock, `4194305 ${hostname()}\n`, { mode: 0o600 });
    const run = await liaison([
      'alert',
      'KG-AKZHOL',
      '--key',
      paths.deviceKey(SENDER),
      ...common(),
      '--title',
      'After a crash',
    ]);
    expect(run.stderr).toBe('');
    expect(lines(run.stdout).at(-1)).toMatchObject({ status: 'accepted' });
    await expect(readFile(lock)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
