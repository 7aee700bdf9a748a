import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.js';
import { type AcceptRequest, deliveryMessage } from '../../src/engine/inboxes.js';
import { channels } from '../../src/engine/keyspace.js';
import { RedisEngine } from '../../src/engine/redis.js';
import {
  disposeEngine,
  ENGINES,
  memoryUsage,
  overwriteBody,
  REDIS_URL,
  storedBodies,
} from '../fixtures/engines.js';

const NO_LIMIT = { keys: [], windowMs: 60_000, max: 1 };

const send = (
  engine: Engine,
  devices: string[],
  sender = 'KZ-KORDAI/desk-1',
  id = randomUUID(),
  rate: AcceptRequest['rate'] = NO_LIMIT,
) =>
  engine.inboxes.accept({
    id,
    sender,
    envelope: `{"id":"${id}","x":"a|b"}`,
    devices,
    meta: '{}',
    rate,
  });

describe.each(ENGINES)('$name engine contract', ({ make }) => {
  let engine: Engine;
  afterEach(async () => {
    await disposeEngine(engine);
  });

  describe('inboxes: store, push, rate, fetch, ack', () => {
    it('stores an envelope once per device with offsets that only grow', async () => {
      engine = make();
      const a = await send(engine, ['KG-AKZHOL/desk-1', 'KG-AKZHOL/duty-1']);
      const b = await send(engine, ['KG-AKZHOL/desk-1']);
      expect(a.duplicate).toBe(false);
      expect(a.offsets).toEqual({ 'KG-AKZHOL/desk-1': 1, 'KG-AKZHOL/duty-1': 1 });
      expect(b.offsets).toEqual({ 'KG-AKZHOL/desk-1': 2 });
      expect(b.seq).toBe(a.seq + 1);
      expect(await engine.inboxes.pending('KG-AKZHOL/desk-1')).toBe(2);
      const page = await engine.inboxes.fetch('KG-AKZHOL/desk-1', 0, 10);
      expect(page.items.map((i) => i.offset)).toEqual([1, 2]);
      expect(page.items[0]?.envelope).toContain('"x":"a|b"');
      expect(page.items[0]?.sender).toBe('KZ-KORDAI/desk-1');
      expect(page.more).toBe(false);
      expect(page.gap).toBeNull();
      expect(page.lost).toEqual([]);
    });

    it('a page holds no more envelope bytes than the budget (but always one item), and pages cover all in order', async () => {
      engine = make();
      const big = 'y'.repeat(60_000);
      for (let i = 0; i < 12; i++) {
        const id = randomUUID();
        await engine.inboxes.accept({
          id,
          sender: 'KZ-KORDAI/desk-1',
          envelope: `{"id":"${id}","x":"${big}"}`,
          devices: ['KG-AKZHOL/desk-1'],
          meta: '{}',
          rate: NO_LIMIT,
        });
      }
      const offsets: number[] = [];
      let after = 0;
      for (;;) {
        const page = await engine.inboxes.fetch('KG-AKZHOL/desk-1', after, 500, 200_000);
        const bytes = page.items.reduce((sum, item) => sum + item.envelope.length, 0);
        expect(page.items.length).toBeGreaterThan(0);
        expect(bytes).toBeLessThanOrEqual(200_000);
        offsets.push(...page.items.map((item) => item.offset));
        after = page.items.at(-1)?.offset ?? after;
        if (!page.more) break;
      }
      expect(offsets).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
      // A budget smaller than one envelope still moves forward, one item a page.
      const one = await engine.inboxes.fetch('KG-AKZHOL/desk-1', 0, 500, 10);
      expect(one.items.map((item) => item.offset)).toEqual([1]);
      expect(one.more).toBe(true);
      // Exactly `limit` items left: no more.
      const last = await engine.inboxes.fetch('KG-AKZHOL/desk-1', 10, 2);
      expect(last.items.map((item) => item.offset)).toEqual([11, 12]);
      expect(last.more).toBe(false);
    });

    it('a full inbox refuses new envelopes for every recipient, and takes them again once read', async () => {
      engine = make(60_000, { maxInboxItems: 3 });
      for (let i = 0; i < 3; i++) await send(engine, ['KG-AKZHOL/desk-1']);
      const refused = await send(engine, ['KG-AKZHOL/duty-1', 'KG-AKZHOL/desk-1']);
      expect(refused.fullInbox).toBe('KG-AKZHOL/desk-1');
      expect(await engine.inboxes.pending('KG-AKZHOL/duty-1')).toBe(0);
      await engine.inboxes.ack('KG-AKZHOL/desk-1', 1);
      const taken = await send(engine, ['KG-AKZHOL/desk-1']);
      expect(taken.fullInbox).toBeUndefined();
      expect(taken.offsets).toEqual({ 'KG-AKZHOL/desk-1': 4 });
    });

    it('a large ack removes everything up to it and reports each envelope once', async () => {
      engine = make();
      const ids = new Set<string>();
      for (let i = 0; i < 1_200; i++) {
        const id = randomUUID();
        ids.add(id);
        await send(engine, ['KG-AKZHOL/desk-1'], undefined, id);
      }
      const removed = await engine.inboxes.ack('KG-AKZHOL/desk-1', 1_150);
      expect(removed).toHaveLength(1_150);
      expect(new Set(removed.map((r) => r.id)).size).toBe(1_150);
      for (const r of removed) expect(ids.has(r.id)).toBe(true);
      const rest = await engine.inboxes.fetch('KG-AKZHOL/desk-1', 0, 500);
      expect(rest.items.map((i) => i.offset)).toEqual(
        Array.from({ length: 50 }, (_, i) => 1_151 + i),
      );
    });

    it('a large expired backlog is dropped and reported as one gap', async () => {
      engine = make(300);
      for (let i = 0; i < 1_200; i++) await send(engine, ['KG-AKZHOL/desk-1']);
      await sleep(400);
      await send(engine, ['KG-AKZHOL/desk-1']);
      const page = await engine.inboxes.fetch('KG-AKZHOL/desk-1', 0, 500);
      expect(page.gap).toEqual({ from: 1, to: 1_200, reason: 'expired' });
      expect(page.items.map((i) => i.offset)).toEqual([1_201]);
    });

    it("pushes each stored envelope on its devices' channels, and nothing for a repeat", async () => {
      engine = make();
      const heard: string[] = [];
      await engine.pubsub.subscribe(channels.device('KG-AKZHOL/duty-1'), (m) => heard.push(m));
      const id = randomUUID();
      const first = await send(engine, ['KG-AKZHOL/desk-1', 'KG-AKZHOL/duty-1'], undefined, id);
      await send(engine, ['KG-AKZHOL/desk-1', 'KG-AKZHOL/duty-1'], undefined, id);
      await sleep(100);
      const envelope = `{"id":"${id}","x":"a|b"}`;
      expect(heard).toEqual([deliveryMessage(1, first.acceptedAt, envelope)]);
      expect(JSON.parse(heard[0] ?? '')).toEqual({
        type: 'envelope',
        offset: 1,
        acceptedAt: first.acceptedAt,
        envelope: JSON.parse(envelope),
      });
    });

    it('an office pair over its rate stores nothing; a repeat of an accepted id is not counted', async () => {
      engine = make();
      const rate = { keys: ['KZ-KORDAI>KG-AKZHOL'], windowMs: 60_000, max: 2 };
      const id = randomUUID();
      const first = await send(engine, ['KG-AKZHOL/desk-1'], undefined, id, rate);
      const repeat = await send(engine, ['KG-AKZHOL/desk-1'], undefined, id, rate);
      const second = await send(engine, ['KG-AKZHOL/desk-1'], undefined, undefined, rate);
      const third = await send(engine, ['KG-AKZHOL/desk-1'], undefined, undefined, rate);
      expect([first, repeat, second, third].map((r) => [r.duplicate, r.rateLimited])).toEqual([
        [false, false],
        [true, false],
        [false, false],
        [false, true],
      ]);
      expect(await engine.inboxes.pending('KG-AKZHOL/desk-1')).toBe(2);
      const other = { ...rate, keys: ['KZ-KORDAI>UZ-OYBEK'] };
      expect(
        (await send(engine, ['UZ-OYBEK/desk-1'], undefined, undefined, other)).rateLimited,
      ).toBe(false);
    });

    it('a repeated id returns the first acceptance and stores nothing new', async () => {
      engine = make();
      const id = randomUUID();
      const first = await send(engine, ['KG-AKZHOL/desk-1'], 'KZ-KORDAI/desk-1', id);
      const again = await send(engine, ['KG-AKZHOL/desk-1'], 'KZ-KORDAI/desk-1', id);
      expect(again).toMatchObject({
        duplicate: true,
        seq: first.seq,
        acceptedAt: first.acceptedAt,
      });
      expect((await engine.inboxes.fetch('KG-AKZHOL/desk-1', 0, 10)).items).toHaveLength(1);
      await expect(send(engine, ['KG-AKZHOL/desk-1'], 'UZ-OYBEK/desk-1', id)).rejects.toMatchObject(
        {
          code: 'VALIDATION_FAILED',
        },
      );
    });

    it('pages in order and acknowledged items are gone for good', async () => {
      engine = make();
      for (let i = 0; i < 5; i++) await send(engine, ['KG-AKZHOL/desk-1']);
      const first = await engine.inboxes.fetch('KG-AKZHOL/desk-1', 0, 2);
      expect(first.items.map((i) => i.offset)).toEqual([1, 2]);
      expect(first.more).toBe(true);
      const removed = await engine.inboxes.ack('KG-AKZHOL/desk-1', 3);
      expect(removed).toHaveLength(3);
      expect(removed[0]?.sender).toBe('KZ-KORDAI/desk-1');
      const after = await engine.inboxes.fetch('KG-AKZHOL/desk-1', 0, 10);
      expect(after.items.map((i) => i.offset)).toEqual([4, 5]);
      expect(after.gap).toBeNull();
      expect(await engine.inboxes.ack('KG-AKZHOL/desk-1', 3)).toEqual([]);
    });

    it('items past retention are dropped and reported as a gap, never silently', async () => {
      engine = make(150);
      await send(engine, ['KG-AKZHOL/desk-1']);
      await send(engine, ['KG-AKZHOL/desk-1']);
      await sleep(250);
      await send(engine, ['KG-AKZHOL/desk-1']);
      const page = await engine.inboxes.fetch('KG-AKZHOL/desk-1', 0, 10);
      expect(page.items.map((i) => i.offset)).toEqual([3]);
      expect(page.gap).toEqual({ from: 1, to: 2, reason: 'expired' });
    });

    it('a dropped inbox is empty', async () => {
      engine = make();
      await send(engine, ['KG-AKZHOL/desk-1']);
      await engine.inboxes.dropInbox('KG-AKZHOL/desk-1');
      expect((await engine.inboxes.fetch('KG-AKZHOL/desk-1', 0, 10)).items).toEqual([]);
    });
  });

  describe('envelope bodies: stored once, referenced by inboxes', () => {
    const DESKS = ['desk-1', 'desk-2', 'duty-1', 'duty-2', 'chief-1'].map((d) => `KG-AKZHOL/${d}`);
    const bigEnvelope = (id: string) => `{"id":"${id}","x":"${'c'.repeat(20_000)}"}`;

    it('an envelope to five devices is stored once; each inbox holds a reference', async () => {
      engine = make();
      const id = randomUUID();
      await engine.inboxes.accept({
        id,
        sender: 'KZ-KORDAI/desk-1',
        envelope: bigEnvelope(id),
        devices: DESKS,
        meta: '{}',
        rate: NO_LIMIT,
      });
      const bodies = await storedBodies(engine);
      expect([...bodies.keys()]).toEqual([id]);
      expect(bodies.get(id)).toEqual({ envelope: bigEnvelope(id), refs: 5 });
      if (engine instanceof RedisEngine) {
        // One 20 KB body in Redis; each inbox (a sorted set of one reference) about 1 KB.
        expect(await memoryUsage(engine.keys.envelope(id))).toBeGreaterThan(20_000);
        for (const desk of DESKS) {
          expect(await memoryUsage(engine.keys.inbox(desk))).toBeLessThan(2_000);
        }
      }
      for (const desk of DESKS) {
        const page = await engine.inboxes.fetch(desk, 0, 10);
        expect(page.items.map((item) => [item.offset, item.id, item.envelope])).toEqual([
          [1, id, bigEnvelope(id)],
        ]);
        expect(page.lost).toEqual([]);
      }
    });

    it('the body is gone once every inbox that held it acknowledged it, expired it or was dropped', async () => {
      engine = make();
      const shared = randomUUID();
      await send(engine, DESKS.slice(0, 3), undefined, shared);
      const other = await send(engine, [DESKS[0] as string]);
      await engine.inboxes.ack(DESKS[0] as string, 1);
      expect((await storedBodies(engine)).get(shared)?.refs).toBe(2);
      await engine.inboxes.dropInbox(DESKS[1] as string);
      expect((await storedBodies(engine)).get(shared)?.refs).toBe(1);
      await engine.inboxes.ack(DESKS[2] as string, 1);
      const left = await storedBodies(engine);
      expect(left.has(shared)).toBe(false);
      expect(left.size).toBe(1);
      await engine.inboxes.ack(DESKS[0] as string, other.offsets[DESKS[0] as string] as number);
      expect((await storedBodies(engine)).size).toBe(0);
    });

    it('a dropped inbox of more than one step releases every body it held', async () => {
      engine = make();
      for (let i = 0; i < 1_100; i++) await send(engine, DESKS.slice(0, 2));
      await engine.inboxes.dropInbox(DESKS[0] as string);
      const bodies = await storedBodies(engine);
      expect(bodies.size).toBe(1_100);
      expect(new Set([...bodies.values()].map((b) => b.refs))).toEqual(new Set([1]));
      await engine.inboxes.dropInbox(DESKS[1] as string);
      expect((await storedBodies(engine)).size).toBe(0);
      expect(await engine.inboxes.pending(DESKS[1] as string)).toBe(0);
    });

    it('expired entries release their bodies when a fetch drops them', async () => {
      engine = make(150);
      await send(engine, DESKS.slice(0, 2));
      await sleep(250);
      for (const desk of DESKS.slice(0, 2)) {
        expect((await engine.inboxes.fetch(desk, 0, 10)).gap).toEqual({
          from: 1,
          to: 1,
          reason: 'expired',
        });
      }
      expect((await storedBodies(engine)).size).toBe(0);
    });

    it('a full inbox of expired entries takes new envelopes again', async () => {
      engine = make(150, { maxInboxItems: 3 });
      for (let i = 0; i < 3; i++) await send(engine, [DESKS[0] as string]);
      await sleep(250);
      const taken = await send(engine, [DESKS[0] as string]);
      expect(taken.fullInbox).toBeUndefined();
      expect(taken.offsets).toEqual({ [DESKS[0] as string]: 4 });
      expect((await storedBodies(engine)).size).toBe(1);
    });

    it('a body deleted from the store is reported lost at its offset, counted in the page, and acknowledged like any', async () => {
      engine = make();
      const ids = [randomUUID(), randomUUID(), randomUUID()];
      for (const id of ids) await send(engine, [DESKS[0] as string], undefined, id);
      await overwriteBody(engine, ids[1] as string, null);
      const page = await engine.inboxes.fetch(DESKS[0] as string, 0, 10);
      expect(page.items.map((item) => item.offset)).toEqual([1, 3]);
      expect(page.lost).toEqual([{ offset: 2, id: ids[1] }]);
      expect(page.gap).toBeNull();
      const two = await engine.inboxes.fetch(DESKS[0] as string, 0, 2);
      expect([two.items.map((item) => item.offset), two.lost, two.more]).toEqual([
        [1],
        [{ offset: 2, id: ids[1] }],
        true,
      ]);
      const removed = await engine.inboxes.ack(DESKS[0] as string, 3);
      expect(removed.map((r) => r.id)).toEqual(ids);
      // Releasing a body that was gone leaves nothing behind.
      expect((await storedBodies(engine)).size).toBe(0);
    });
  });

  describe('replay guard and counters', () => {
    it('claims a token id once until it expires, and counts hits per window', async () => {
      engine = make();
      const jti = randomUUID();
      expect(await engine.replayGuard.claimOnce(jti, Date.now() + 60_000)).toBe(true);
      expect(await engine.replayGuard.claimOnce(jti, Date.now() + 60_000)).toBe(false);
      expect(await engine.counters.hit('pair', 60_000)).toBe(1);
      expect(await engine.counters.hit('pair', 60_000)).toBe(2);
      expect(await engine.counters.hit('other', 60_000)).toBe(1);
    });
  });

  describe('directory log', () => {
    it('appends to the directory log only at the expected version', async () => {
      engine = make();
      expect(await engine.directoryLog.appendStatements(0, ['a', 'b'])).toBe(true);
      expect(await engine.directoryLog.appendStatements(0, ['c'])).toBe(false);
      expect(await engine.directoryLog.appendStatements(2, ['c'])).toBe(true);
      expect(await engine.directoryLog.readStatements(1)).toEqual(['b', 'c']);
    });

    it('a large append given in parts lands whole at the expected version, or not at all', async () => {
      engine = make();
      const texts = (from: number, n: number) =>
        Array.from({ length: n }, (_, i) => `statement ${from + i}`);
      // An empty log first (a first start), then one with statements.
      const first = engine.directoryLog.startAppend();
      for (let at = 0; at < 2_500; at += 700) await first.add(texts(at, Math.min(700, 2_500 - at)));
      expect(await engine.directoryLog.readStatements(0)).toEqual([]);
      expect(await first.commit(0)).toBe(true);
      const late = engine.directoryLog.startAppend();
      await late.add(texts(9_000, 1_500));
      const next = engine.directoryLog.startAppend();
      await next.add(texts(2_500, 1_200));
      expect(await next.commit(2_500)).toBe(true);
      // Someone appended meanwhile: nothing of this one lands.
      expect(await late.commit(2_500)).toBe(false);
      const dropped = engine.directoryLog.startAppend();
      await dropped.add(texts(5_000, 1_100));
      await dropped.abort();
      expect(await engine.directoryLog.readStatements(0)).toEqual(texts(0, 3_700));
    });

    it('keeps the latest directory head beside the log', async () => {
      engine = make();
      expect(await engine.directoryLog.readHead()).toBeUndefined();
      await engine.directoryLog.saveHead('{"payload":"a","signature":"b"}');
      await engine.directoryLog.saveHead('{"payload":"c","signature":"d"}');
      expect(await engine.directoryLog.readHead()).toBe('{"payload":"c","signature":"d"}');
    });
  });

  describe('checkpoint board', () => {
    it('keeps the newest checkpoints the hub posted, up to the number asked', async () => {
      engine = make();
      expect(await engine.checkpoints.latest()).toBeUndefined();
      for (const text of ['one', 'two', 'three']) await engine.checkpoints.post(text, 2);
      expect(await engine.checkpoints.all()).toEqual(['two', 'three']);
      expect(await engine.checkpoints.latest()).toBe('three');
    });
  });

  describe('presence', () => {
    it('counts live connections of an office', async () => {
      engine = make();
      expect(await engine.presence.touchPresence('KZ-KORDAI', 'c1', Date.now() + 60_000)).toBe(1);
      expect(await engine.presence.touchPresence('KZ-KORDAI', 'c2', Date.now() + 60_000)).toBe(2);
      expect(await engine.presence.touchPresence('KZ-KORDAI', 'c3', Date.now() - 1)).toBe(2);
      expect(await engine.presence.dropPresence('KZ-KORDAI', 'c1')).toBe(1);
    });
  });

  describe('pub/sub', () => {
    it('delivers published messages to subscribers until they leave', async () => {
      engine = make();
      const got: string[] = [];
      const handler = (m: string) => got.push(m);
      await engine.pubsub.subscribe('device:KG-AKZHOL/desk-1', handler);
      await engine.pubsub.publish('device:KG-AKZHOL/desk-1', 'one');
      await engine.pubsub.publish('device:KG-AKZHOL/duty-1', 'other');
      await expect.poll(() => got).toEqual(['one']);
      await engine.pubsub.unsubscribe('device:KG-AKZHOL/desk-1', handler);
      await engine.pubsub.publish('device:KG-AKZHOL/desk-1', 'two');
      await sleep(50);
      expect(got).toEqual(['one']);
    });

    it('a handler that throws is reported and keeps the message from no other handler', async () => {
      engine = make();
      const got: string[] = [];
      const reported: [string, string][] = [];
      engine.pubsub.onHandlerError = (error, channel) =>
        reported.push([(error as Error).message, channel]);
      await engine.pubsub.subscribe('device:KG-AKZHOL/desk-1', () => {
        throw new Error('broken handler');
      });
      await engine.pubsub.subscribe('device:KG-AKZHOL/desk-1', (m) => got.push(m));
      await engine.pubsub.publish('device:KG-AKZHOL/desk-1', 'one');
      await engine.pubsub.publish('device:KG-AKZHOL/desk-1', 'two');
      await expect.poll(() => got).toEqual(['one', 'two']);
      expect(reported).toEqual([
        ['broken handler', 'device:KG-AKZHOL/desk-1'],
        ['broken handler', 'device:KG-AKZHOL/desk-1'],
      ]);
    });
  });
});

describe('Redis inboxes written before bodies were stored apart', () => {
  let engine: RedisEngine;
  afterEach(async () => {
    await disposeEngine(engine);
  });

  it('an entry holding its envelope inline is still delivered and acknowledged', async () => {
    engine = ENGINES.find((e) => e.name === 'redis')?.make() as RedisEngine;
    const id = randomUUID();
    const envelope = `{"id":"${id}","x":"a|b"}`;
    const redis = new Redis(REDIS_URL);
    try {
      // What the accept script wrote before: `offset|id|sender|acceptedAt|envelope`.
      await redis.zadd(
        engine.keys.inbox('KG-AKZHOL/desk-1'),
        1,
        `1|${id}|KZ-KORDAI/desk-1|${Date.now()}|${envelope}`,
      );
      await redis.hset(engine.keys.inboxMeta('KG-AKZHOL/desk-1'), 'next', 1);
    } finally {
      redis.disconnect();
    }
    const next = await send(engine, ['KG-AKZHOL/desk-1']);
    expect(next.offsets).toEqual({ 'KG-AKZHOL/desk-1': 2 });
    const page = await engine.inboxes.fetch('KG-AKZHOL/desk-1', 0, 10);
    expect(page.items.map((item) => [item.offset, item.id, item.sender, item.envelope])).toEqual([
      [1, id, 'KZ-KORDAI/desk-1', envelope],
      [2, expect.any(String), 'KZ-KORDAI/desk-1', expect.stringContaining('"x":"a|b"')],
    ]);
    expect(page.lost).toEqual([]);
    expect((await engine.inboxes.ack('KG-AKZHOL/desk-1', 2)).map((r) => r.id)[0]).toBe(id);
    expect((await storedBodies(engine)).size).toBe(0);
  });
});
