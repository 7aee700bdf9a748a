// Two commands with one device key at once (a chat in each of two terminals), each receiving what
// the other does not: each saves what it saw into the state file beside the key, merged with what
// the other saved, so a command started after them refuses a replay of either envelope.
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyspace } from '../../src/engine/keyspace.js';
import { RedisEngine } from '../../src/engine/redis.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import { generateDevKeySet, keySetPaths } from '../../src/keystore/devset.js';
import { type JsonLines, jsonLines, liaison } from '../fixtures/cli.js';
import { startDevSetGateway } from '../fixtures/dev-gateway.js';
import { REDIS_URL } from '../fixtures/engines.js';
import { freePort } from '../fixtures/ports.js';

const SENDER = 'KZ-KORDAI/desk-1';
const READER = 'KG-AKZHOL/desk-1';
// Another desk of the reader's office: its inbox keeps a copy of each envelope to replay.
const SIBLING = 'KG-AKZHOL/duty-1';

describe('one device key receiving in two CLI processes at once', () => {
  let dir: string;
  let paths: ReturnType<typeof keySetPaths>;
  let engine: RedisEngine;
  let redis: Redis;
  const prefix = `liaison-test:${randomUUID()}:`;
  const ports: number[] = [];
  const gateways: (Gateway | undefined)[] = [];
  const chats: JsonLines[] = [];
  const url = (n: number) => `http://127.0.0.1:${ports[n]}`;
  const common = (n: number) => [
    '--gateway',
    url(n),
    '--authority',
    paths.authorityPublic,
    '--json',
  ];
  const chat = (n: number) => {
    const c = jsonLines(['chat', 'KZ-KORDAI', '--key', paths.deviceKey(READER), ...common(n)]);
    chats.push(c);
    return c;
  };
  const alert = async (n: number, title: string) => {
    const run = await liaison([
      'alert',
      'KG-AKZHOL',
      '--key',
      paths.deviceKey(SENDER),
      ...common(n),
      '--title',
      title,
    ]);
    expect(run.stderr).toBe('');
    const last = JSON.parse(run.stdout.trim().split('\n').at(-1) as string);
    expect(last).toMatchObject({ status: 'accepted' });
    return last.id as string;
  };
  const restart = async (n: number) => {
    gateways[n] = await startDevSetGateway(dir, engine, ports[n]);
  };
  const stop = async (n: number) => {
    await gateways[n]?.close();
    gateways[n] = undefined;
  };
  // Bounded by a count, not a clock: what the reader's chat acknowledged is gone from its inbox.
  const drained = async () => {
    for (let i = 0; i < 1200; i++) {
      if ((await engine.inboxes.pending(READER)) === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`${READER}'s inbox never drained`);
  };
  const event =
    (name: string, fields: Record<string, unknown> = {}) =>
    (e: Record<string, unknown>) =>
      e.event === name && Object.entries(fields).every(([k, v]) => e[k] === v);

  /** Stores an envelope in the reader's inbox again at a fresh offset, as a Redis writer can. */
  const replay = async (id: string) => {
    const page = await engine.inboxes.fetch(SIBLING, 0, 100);
    const item = page.items.find((i) => i.id === id);
    if (!item) throw new Error(`no copy of ${id} in ${SIBLING}'s inbox`);
    await redis.del(keyspace(prefix).accepted(id));
    await engine.inboxes.accept({
      id,
      sender: item.sender,
      envelope: item.envelope,
      devices: [READER],
      meta: '{}',
      rate: { keys: [], windowMs: 60_000, max: 1_000_000 },
    });
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'liaison-concurrent-receives-'));
    await generateDevKeySet(dir);
    paths = keySetPaths(dir);
    engine = new RedisEngine({ url: REDIS_URL, prefix, retentionMs: 600_000 });
    redis = new Redis(REDIS_URL);
    // Two gateways on one Redis, as a deployment has: each chat is connected to its own.
    ports.push(await freePort(), await freePort());
    await restart(0);
    await restart(1);
  }, 120_000);
  afterAll(async () => {
    for (const c of chats) c.child.kill('SIGKILL');
    await Promise.all(chats.map((c) => c.exited));
    await stop(0);
    await stop(1);
    await engine.destroy();
    await engine.close();
    await redis.quit();
    await rm(dir, { recursive: true, force: true });
  });

  it('each chat sees one alert the other does not; a fresh command refuses a replay of either', {
    timeout: 300_000,
  }, async () => {
    const first = chat(0);
    const second = chat(1);
    await first.until(event('ready'));
    await second.until(event('ready'));

    // The second's gateway goes away: the first alone receives the first alert, and takes it
    // off the inbox.
    await stop(1);
    await second.until(event('connection', { state: 'disconnected' }));
    const one = await alert(0, 'Seen by the first chat');
    await first.until(event('message', { id: one }));
    await drained();

    // Then the other way round: the second, back, alone receives the second alert.
    const back = second.events.length;
    await stop(0);
    await first.until(event('connection', { state: 'disconnected' }));
    await restart(1);
    await second.until(event('connection', { state: 'connected' }), back);
    const two = await alert(1, 'Seen by the second chat');
    await second.until(event('message', { id: two }));
    await drained();
    expect(first.events.filter(event('message', { id: two }))).toEqual([]);
    expect(second.events.filter(event('message', { id: one }))).toEqual([]);

    for (const c of [first, second]) c.child.stdin.end();
    expect(await Promise.all([first.exited, second.exited])).toEqual([0, 0]);

    // Both envelopes count as seen in the file, on one stream with nothing missing, although
    // each chat saw one of them and the second reported the first as missing.
    const saved = JSON.parse(await readFile(`${paths.deviceKey(READER)}.state.json`, 'utf8'));
    const streams = Object.entries(saved.sequences.received).filter(([s]) =>
      s.startsWith(`${SENDER}#`),
    );
    expect(streams.map(([, s]) => s)).toMatchObject([{ high: 2, missing: [] }]);

    // A Redis writer stores both again; the next command with the key refuses both.
    await replay(one);
    await replay(two);
    const listed = await liaison(['inbox', '--key', paths.deviceKey(READER), ...common(1)]);
    expect(listed.stderr).toBe('');
    const lines = listed.stdout
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.filter((l) => l.id === one || l.id === two)).toEqual([
      expect.objectContaining({ event: 'problem', code: 'ENVELOPE_REPLAYED', id: one }),
      expect.objectContaining({ event: 'problem', code: 'ENVELOPE_REPLAYED', id: two }),
    ]);
  });
});
