import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Body } from '../../protocol/v1/payload.js';
import { fromBase64Url, toBase64Url } from '../../src/crypto/sodium.js';
import { RedisEngine } from '../../src/engine/redis.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import { Escalator } from '../../src/hub/escalator.js';
import { parseEntry, verifyChain } from '../../src/hub/record.js';
import { type Recorder, recordBatch } from '../../src/hub/recorder.js';
import { trimRecord } from '../../src/hub/retention.js';
import { HubStore } from '../../src/hub/store.js';
import { REDIS_URL } from '../fixtures/engines.js';
import { chat, connect, flash, request, seal, startTestGateway } from '../fixtures/gateway.js';
import { testRecorder } from '../fixtures/hub.js';
import { buildWorld, device, type World } from '../fixtures/world.js';

describe('the hub record', () => {
  let world: World;
  const prefix = `liaison-test:${randomUUID()}:`;
  let engine: RedisEngine;
  let gateway: Gateway;
  let store: HubStore;
  let redis: Redis;
  let kordai: Socket;
  let akzhol: Socket;
  const recorders: Recorder[] = [];
  const recorder = (consumer: string, staleMs = 30_000) => {
    const r = testRecorder(store, world, consumer, { staleMs });
    recorders.push(r);
    return r;
  };
  const send = async (socket: Socket, from: string, to: string, body: Body) => {
    const envelope = await seal(world, device(world, from), [to], body);
    expect(await request(socket, 'envelope:send', envelope)).toMatchObject({ ok: true });
    return envelope;
  };
  const record = async () => (await store.record.entries(0, 10_000)).map(parseEntry);

  beforeAll(async () => {
    world = await buildWorld(Date.now());
    engine = new RedisEngine({ url: REDIS_URL, prefix, retentionMs: 60_000 });
    gateway = await startTestGateway(engine, world);
    store = new HubStore(REDIS_URL, prefix);
    await store.stream.ensureGroup('hub');
    redis = new Redis(REDIS_URL);
    kordai = await connect(gateway, device(world, 'KZ-KORDAI/desk-1'));
    akzhol = await connect(gateway, device(world, 'KG-AKZHOL/desk-1'));
  });
  afterAll(async () => {
    kordai.close();
    akzhol.close();
    await gateway.close();
    await store.close();
    await engine.destroy();
    await engine.close();
    await redis.quit();
  });

  it('every envelope appears once, including those sent while the hub was not running', async () => {
    const sent = [];
    for (let i = 0; i < 5; i++)
      sent.push(await send(kordai, 'KZ-KORDAI/desk-1', 'KG-AKZHOL', chat(`offline ${i}`)));
    expect(await recorder('replica-a').drain()).toBe(5);
    for (let i = 0; i < 3; i++)
      sent.push(await send(akzhol, 'KG-AKZHOL/desk-1', 'KZ-KORDAI', chat(`live ${i}`)));
    await recorder('replica-a').drain();
    const entries = await record();
    expect(entries.map((e) => e.body.id)).toEqual(sent.map((e) => e.header.id));
    expect(entries.every((e) => e.body.status === 'compliant')).toBe(true);
    expect(verifyChain(entries.map((e) => `${e.hash} ${e.bodyText}`))).toEqual({
      ok: true,
      entries: 8,
    });
  });

  it('replicas share the work without losing or double-recording, even when one dies mid-batch', async () => {
    const before = (await record()).length;
    const ids = new Set<string>();
    for (let i = 0; i < 30; i++)
      ids.add((await send(kordai, 'KZ-KORDAI/desk-1', 'KG-AKZHOL', chat(`shared ${i}`))).header.id);
    // A replica that takes a batch and dies before recording it: its items stay pending.
    await store.stream.read('hub', 'dying-replica', 10, 0, 60_000);
    const a = recorder('replica-a', 50);
    const b = recorder('replica-b', 50);
    await Promise.all([a.drain(), b.drain()]);
    await new Promise((done) => setTimeout(done, 100));
    while ((await a.drain()) + (await b.drain()) > 0) {}
    const entries = await record();
    const fresh = entries.slice(before).map((e) => e.body.id);
    expect(fresh).toHaveLength(30);
    expect(new Set(fresh)).toEqual(ids);
    expect(verifyChain(entries.map((e) => `${e.hash} ${e.bodyText}`)).ok).toBe(true);
  });

  it('an envelope the hub cannot verify is recorded and flagged, blaming no office on the gateway’s word', async () => {
    const envelope = await seal(
      world,
      device(world, 'KZ-KORDAI/desk-1'),
      ['KG-AKZHOL'],
      chat('tampered'),
    );
    const signature = fromBase64Url(envelope.signature);
    signature[0] = (signature[0] as number) ^ 1;
    const forged = { ...envelope, signature: toBase64Url(signature) };
    expect(await request(kordai, 'envelope:send', forged)).toMatchObject({ ok: true });
    await recorder('replica-a').drain();
    const last = (await record()).at(-1);
    expect(last?.body).toMatchObject({
      id: envelope.header.id,
      status: 'non-compliant',
      code: 'SIGNATURE_INVALID',
      authenticated: false,
      // Unsigned, so unproven: the office the gateway named stays a claim, not a verdict.
      claimed: { from: 'KZ-KORDAI', sender: 'KZ-KORDAI/desk-1' },
    });
    expect(last?.body.offendingOffice).toBeUndefined();
  });

  it('editing, deleting or reordering any entry is detected at that entry', async () => {
    const key = `${prefix}record`;
    const original = await redis.lrange(key, 0, -1);
    const check = async () => verifyChain(await redis.lrange(key, 0, -1));
    const restore = async () => {
      await redis.del(key);
      await redis.rpush(key, ...original);
    };

    await redis.lset(key, 3, (original[3] as string).replace('"compliant"', '"non-compliant"'));
    expect((await check()).broken).toMatchObject({
      position: 4,
      reason: 'content does not match its hash',
    });
    await restore();

    await redis.lrem(key, 1, original[5] as string);
    expect((await check()).broken?.position).toBe(6);
    await restore();

    await redis.lset(key, 2, original[7] as string);
    await redis.lset(key, 7, original[2] as string);
    expect((await check()).broken?.position).toBe(3);
    await restore();
    expect((await check()).ok).toBe(true);
  });

  it('an unacknowledged FLASH alert escalates once, on time; an acknowledged one does not', async () => {
    const ignored = await send(kordai, 'KZ-KORDAI/desk-1', 'KG-AKZHOL', flash('ignored'));
    const answered = await send(kordai, 'KZ-KORDAI/desk-1', 'KG-AKZHOL', flash('answered'));
    await send(akzhol, 'KG-AKZHOL/desk-1', 'KZ-KORDAI', {
      type: 'alert-ack',
      alertId: answered.header.id,
    });
    await recorder('replica-a').drain();

    const notified: string[] = [];
    const escalators = [1, 2].map(
      () =>
        new Escalator(
          store.alerts,
          async (e) => void notified.push(e.alertId),
          (error) => {
            throw error;
          },
        ),
    );
    expect(await escalators[0]?.tick(Date.now() - 10_000)).toEqual([]);
    const late = Date.now() + 1_000;
    await Promise.all(escalators.map((e) => e.tick(late)));
    expect(notified).toEqual([ignored.header.id]);
    expect((await store.alerts.alert(answered.header.id))?.ackedBy).toBe('KG-AKZHOL');
  });

  it('an envelope id accepted again later is recorded again, not hidden as a repeat', async () => {
    const stream = `${prefix}hub`;
    const [last] = (await redis.xrevrange(stream, '+', '-', 'COUNT', 1)) as [string, string[]][];
    const fields = last?.[1] as string[];
    await redis.xadd(stream, '*', ...fields);
    const before = (await record()).length;
    await recorder('replica-a').drain();
    const entries = await record();
    expect(entries).toHaveLength(before + 1);
    expect(entries.at(-1)?.body.id).toBe(entries.at(-2)?.body.id);
  });

  it('an unreadable stream item is recorded as non-compliant and does not hold up the others', async () => {
    await redis.xadd(`${prefix}hub`, '*', 'id', 'x', 'meta', '{not json', 'envelope', 'garbage');
    const fine = await send(kordai, 'KZ-KORDAI/desk-1', 'KG-AKZHOL', chat('after the garbage'));
    await recorder('replica-a').drain();
    const [bad, good] = (await record()).slice(-2);
    expect(bad?.body).toMatchObject({ status: 'non-compliant', code: 'ENVELOPE_INVALID' });
    expect(good?.body).toMatchObject({ id: fine.header.id, status: 'compliant' });
  });

  it('an acknowledgement recorded before its alert, or still in the backlog, prevents escalation', async () => {
    const escalated: string[] = [];
    const escalator = new Escalator(
      store.alerts,
      async (e) => void escalated.push(e.alertId),
      (error) => {
        throw error;
      },
      () => store.stream.frontier('hub'),
    );

    // Out of order: the ack reaches the record first.
    const first = await send(kordai, 'KZ-KORDAI/desk-1', 'KG-AKZHOL', flash('first'));
    await send(akzhol, 'KG-AKZHOL/desk-1', 'KZ-KORDAI', {
      type: 'alert-ack',
      alertId: first.header.id,
    });
    const items = await store.stream.read('hub', 'ordering', 10, 0, 60_000);
    const options = {
      store,
      directory: () => world.directory,
      hubKeys: device(world, 'CARICC/hub'),
      deadlines: { FLASH: 200, IMMEDIATE: 400 },
    };
    await recordBatch([items[1] as (typeof items)[number]], options);
    await recordBatch([items[0] as (typeof items)[number]], options);
    await store.stream.ackStreamMany(
      'hub',
      items.map((i) => i.streamId),
    );

    // In the backlog: the alert is recorded, its ack was accepted in time but not yet recorded.
    const second = await send(kordai, 'KZ-KORDAI/desk-1', 'KG-AKZHOL', flash('second'));
    await recorder('replica-a').drain();
    await send(akzhol, 'KG-AKZHOL/desk-1', 'KZ-KORDAI', {
      type: 'alert-ack',
      alertId: second.header.id,
    });
    expect(await escalator.tick(Date.now() + 60_000)).toEqual([]);
    await recorder('replica-a').drain();
    expect(await escalator.tick(Date.now() + 60_000)).toEqual([]);
    expect(escalated).toEqual([]);
  });

  it('entries cut off the end of the record are caught against its head', async () => {
    const key = `${prefix}record`;
    const last = (await redis.rpop(key)) as string;
    const report = verifyChain(
      await store.record.allEntries(),
      await store.record.base(),
      await store.record.head(),
    );
    await redis.rpush(key, last);
    expect(report.ok).toBe(false);
    expect(report.broken?.reason).toMatch(/ends before its head/);
    expect(
      verifyChain(
        await store.record.allEntries(),
        await store.record.base(),
        await store.record.head(),
      ).ok,
    ).toBe(true);
  });

  it('retention drops the oldest entries and what is kept still verifies from the new base', async () => {
    const before = await record();
    const cutoff = (before[4] as (typeof before)[number]).body.acceptedAt;
    const expected = before.filter((e) => e.body.acceptedAt >= cutoff);
    expect(await trimRecord(store.record, cutoff)).toBe(before.length - expected.length);
    const base = await store.record.base();
    const kept = await store.record.allEntries();
    expect(kept.map((s) => parseEntry(s).body.seq)).toEqual(expected.map((e) => e.body.seq));
    expect(base.seq).toBe((expected[0]?.body.seq ?? 1) - 1);
    expect(verifyChain(kept, base).ok).toBe(true);
    expect(verifyChain(kept).ok).toBe(false);
    // What retention dropped is forgotten everywhere: no id bookkeeping outlives its entry.
    const ids = await redis.hkeys(`${prefix}record:ids`);
    expect(ids).toHaveLength(kept.length);
    expect(parseEntry((await store.record.entries(base.seq, 1))[0] as string).body.seq).toBe(
      base.seq + 1,
    );
  });
});
