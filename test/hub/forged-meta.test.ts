import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubStreamMeta } from '../../protocol/v1/hub-stream.js';
import { Escalator } from '../../src/hub/escalator.js';
import { SequenceAudit } from '../../src/hub/gaps.js';
import { parseEntry } from '../../src/hub/record.js';
import type { Recorder } from '../../src/hub/recorder.js';
import { HubStore } from '../../src/hub/store.js';
import { REDIS_URL } from '../fixtures/engines.js';
import { chat, flash, seal } from '../fixtures/gateway.js';
import { testRecorder } from '../fixtures/hub.js';
import { buildWorld, device, type World } from '../fixtures/world.js';

// Someone who can write to Redis (or a hostile gateway) adds items to the hub stream with
// metadata of their choosing, to frame an office, skew the statistics or stop an escalation.
// The hub records what the envelope's own signed header says, and flags the difference.

describe('the hub records from the envelope, not from the stream’s metadata', () => {
  let world: World;
  const prefix = `liaison-test:${randomUUID()}:`;
  let store: HubStore;
  let redis: Redis;
  let recorder: Recorder;

  /** Writes an item to the hub stream as a Redis writer would, bypassing the gateway. */
  const inject = async (envelope: unknown, meta: HubStreamMeta) => {
    const text = JSON.stringify(envelope);
    await redis.xadd(`${prefix}hub`, '*', 'meta', JSON.stringify(meta), 'envelope', text);
    return text;
  };
  /** The metadata an honest gateway would write for an envelope. */
  const honestMeta = (envelope: Awaited<ReturnType<typeof seal>>): HubStreamMeta => ({
    id: envelope.header.id,
    kind: envelope.header.kind,
    ...(envelope.header.precedence ? { precedence: envelope.header.precedence } : {}),
    sender: envelope.header.sender.deviceId,
    from: envelope.header.sender.deviceId.split('/')[0] as string,
    to: envelope.header.to,
    createdAt: envelope.header.createdAt,
    size: Buffer.byteLength(JSON.stringify(envelope)),
  });
  const last = async () => {
    const entries = await store.record.entries(0, 10_000);
    return parseEntry(entries.at(-1) as string).body;
  };

  beforeAll(async () => {
    world = await buildWorld(Date.now());
    store = new HubStore(REDIS_URL, prefix);
    await store.stream.ensureGroup('hub');
    redis = new Redis(REDIS_URL);
    recorder = testRecorder(store, world, 'forged-meta');
  });
  afterAll(async () => {
    await store.close();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it('a chat relabelled as a FLASH alert from another office is recorded as the chat it is, and flagged', async () => {
    const envelope = await seal(
      world,
      device(world, 'KZ-KORDAI/desk-1'),
      ['KG-AKZHOL'],
      chat('hi'),
    );
    const forged: HubStreamMeta = {
      id: randomUUID(),
      kind: 'alert',
      precedence: 'FLASH',
      sender: 'UZ-OYBEK/desk-1',
      from: 'UZ-OYBEK',
      to: ['KZ-KORDAI'],
      createdAt: envelope.header.createdAt,
      size: 10,
    };
    await inject(envelope, forged);
    await recorder.drain();
    const entry = await last();
    expect(entry).toMatchObject({
      id: envelope.header.id,
      kind: 'chat',
      sender: 'KZ-KORDAI/desk-1',
      from: 'KZ-KORDAI',
      to: ['KG-AKZHOL'],
      status: 'non-compliant',
      code: 'META_MISMATCH',
      authenticated: true,
      claimed: forged,
    });
    expect(entry.precedence).toBeUndefined();
    // The offices did nothing wrong: nobody is blamed, and no alert goes on the escalation clock.
    expect(entry.offendingOffice).toBeUndefined();
    expect(await store.alerts.alert(forged.id)).toBeUndefined();
    expect(await store.alerts.alert(envelope.header.id)).toBeUndefined();
  });

  it('an honest item is compliant and keeps no claim', async () => {
    const envelope = await seal(
      world,
      device(world, 'KZ-KORDAI/desk-1'),
      ['KG-AKZHOL'],
      chat('ok'),
    );
    await inject(envelope, honestMeta(envelope));
    await recorder.drain();
    const entry = await last();
    expect(entry).toMatchObject({
      id: envelope.header.id,
      status: 'compliant',
      authenticated: true,
    });
    expect(entry.claimed).toBeUndefined();
  });

  it('metadata that says the same but is not the schema’s (a key added, a number as text) is flagged', async () => {
    const cases: { meta: string; kept: boolean }[] = [];
    for (const change of [
      (m: HubStreamMeta) => ({ ...m, note: 'x' }),
      (m: HubStreamMeta) => ({ ...m, size: String(m.size) }),
      (m: HubStreamMeta) => ({ ...m, to: m.to.join(',') }),
      (m: HubStreamMeta) => [m],
    ]) {
      const envelope = await seal(
        world,
        device(world, 'KZ-KORDAI/desk-1'),
        ['KG-AKZHOL'],
        chat('almost'),
      );
      const meta = JSON.stringify(change(honestMeta(envelope)));
      await redis.xadd(`${prefix}hub`, '*', 'meta', meta, 'envelope', JSON.stringify(envelope));
      await recorder.drain();
      const entry = await last();
      expect(entry).toMatchObject({
        id: envelope.header.id,
        status: 'non-compliant',
        code: 'META_MISMATCH',
      });
      // None of them is a HubStreamMeta, so none is kept as the gateway's claim.
      cases.push({ meta, kept: entry.claimed !== undefined });
    }
    expect(cases.filter((c) => c.kept)).toEqual([]);
  });

  it('an acknowledgement relabelled as coming from the receiving office cannot stop an escalation', async () => {
    const alert = await seal(
      world,
      device(world, 'KZ-KORDAI/desk-1'),
      ['KG-AKZHOL'],
      flash('convoy'),
    );
    await inject(alert, honestMeta(alert));
    // The sending office's own second device acknowledges; the writer says Ak-Zhol did.
    const ack = await seal(world, device(world, 'KZ-KORDAI/duty-1'), ['KG-AKZHOL'], {
      type: 'alert-ack',
      alertId: alert.header.id,
    });
    await inject(ack, { ...honestMeta(ack), sender: 'KG-AKZHOL/desk-1', from: 'KG-AKZHOL' });
    await recorder.drain();
    expect(await last()).toMatchObject({ from: 'KZ-KORDAI', code: 'META_MISMATCH' });
    const escalated: string[] = [];
    const escalator = new Escalator(
      store.alerts,
      async (e) => void escalated.push(e.alertId),
      (error) => {
        throw error;
      },
    );
    await escalator.tick(Date.now() + 1_000);
    expect(escalated).toContain(alert.header.id);
    expect((await store.alerts.alert(alert.header.id))?.ackedBy).toBeUndefined();
  });

  it('garbage signed by nobody blames nobody, whatever office the writer names', async () => {
    const envelope = await seal(world, device(world, 'KZ-KORDAI/desk-1'), ['KG-AKZHOL'], chat('x'));
    const garbage = {
      ...envelope,
      signature: envelope.signature.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')),
    };
    await inject(garbage, { ...honestMeta(envelope), sender: 'UZ-OYBEK/desk-1', from: 'UZ-OYBEK' });
    await recorder.drain();
    const entry = await last();
    expect(entry).toMatchObject({
      status: 'non-compliant',
      code: 'SIGNATURE_INVALID',
      authenticated: false,
    });
    expect(entry.offendingOffice).toBeUndefined();
  });

  it('an envelope its sender signed but may not send is blamed on the office that signed it', async () => {
    // Uzbek Oybek has no link to Ak-Zhol; its own device signed this.
    const unlinked = await seal(world, device(world, 'UZ-OYBEK/desk-1'), ['KG-AKZHOL'], chat('z'));
    await inject(unlinked, honestMeta(unlinked));
    await recorder.drain();
    expect(await last()).toMatchObject({
      code: 'NOT_LINKED',
      authenticated: true,
      offendingOffice: 'UZ-OYBEK',
    });
  });

  it('an acceptance time far from what the sender signed is the writer’s, and flagged', async () => {
    // A Redis writer adds a sound envelope with a stream id of its choosing, a day after the
    // sender made it (a gateway refuses anything more than five minutes off its clock).
    const envelope = await seal(world, device(world, 'KZ-KORDAI/desk-1'), ['KG-AKZHOL'], chat('t'));
    const later = envelope.header.createdAt + 24 * 3_600_000;
    await redis.xadd(
      `${prefix}hub`,
      `${later}-0`,
      'meta',
      JSON.stringify(honestMeta(envelope)),
      'envelope',
      JSON.stringify(envelope),
    );
    await recorder.drain();
    expect(await last()).toMatchObject({
      id: envelope.header.id,
      status: 'non-compliant',
      code: 'META_MISMATCH',
      authenticated: true,
      acceptedAt: later,
    });
  });

  it('an envelope dropped before the hub, and one accepted twice, show in the record’s audit', async () => {
    const sender = device(world, 'KG-AKZHOL/duty-1');
    const sent = [
      await seal(world, sender, ['KZ-KORDAI'], chat('first')),
      await seal(world, sender, ['KZ-KORDAI'], chat('dropped')),
      await seal(world, sender, ['KZ-KORDAI'], chat('third')),
    ] as const;
    await inject(sent[0], honestMeta(sent[0]));
    await inject(sent[2], honestMeta(sent[2]));
    await inject(sent[0], honestMeta(sent[0]));
    await recorder.drain();
    const audit = new SequenceAudit();
    for (const stored of await store.record.entries(0, 10_000)) audit.add(parseEntry(stored).body);
    const report = audit.report();
    const dropped = sent[1].header.counter;
    expect(report.possiblyMissing).toContainEqual({
      sender: 'KG-AKZHOL/duty-1',
      to: ['KZ-KORDAI'],
      counters: [dropped, dropped],
    });
    expect(report.replayed.map((r) => r.id)).toEqual([sent[0].header.id]);
  });
});
