import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.js';
import { type AcceptRequest, deliveryMessage } from '../../src/engine/inboxes.js';
import { channels } from '../../src/engine/keyspace.js';
import { disposeEngine, ENGINES } from '../fixtures/engines.js';

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
  });
});
