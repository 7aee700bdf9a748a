import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Envelope } from '../../protocol/v1/envelope.js';
import { type ClientOptions, LiaisonClient } from '../../src/client/client.js';
import type { DeviceKeys } from '../../src/crypto/keys.js';
import { keyspace } from '../../src/engine/keyspace.js';
import { RedisEngine } from '../../src/engine/redis.js';
import { sealEnvelope } from '../../src/envelope/seal.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import { waitFor } from '../fixtures/client.js';
import { rotate } from '../fixtures/directory-changes.js';
import { REDIS_URL } from '../fixtures/engines.js';
import { AUDIENCE, chat, flash, seal, signedHead, startTestGateway } from '../fixtures/gateway.js';
import { buildWorld, device, type World } from '../fixtures/world.js';

// The attacker here writes to the gateway's Redis (or runs the gateway): it can store any envelope
// it ever saw in any inbox, at a fresh offset, and leave out any it likes. What it cannot do is
// sign: the counter and creation time in a header are the sender's.

describe('a Redis writer replays and drops envelopes', () => {
  let world: World;
  let engine: RedisEngine;
  let gateway: Gateway;
  let redis: Redis;
  const prefix = `liaison-test:${randomUUID()}:`;
  const clients: LiaisonClient[] = [];
  const READER = 'KG-AKZHOL/desk-1';

  const reader = (options: Partial<ClientOptions> = {}) => {
    const c = new LiaisonClient({
      url: gateway.url,
      audience: AUDIENCE,
      keys: device(world, READER),
      authority: world.directory.authority,
      ...options,
    });
    clients.push(c);
    return c;
  };

  /** Stores an envelope in a device's inbox at a fresh offset, as if the gateway accepted it now. */
  const plant = async (envelope: Envelope, devices = [READER]) => {
    const { id } = envelope.header;
    // Forget that the id was ever accepted: the engine would otherwise return the first result.
    await redis.del(keyspace(prefix).accepted(id));
    const result = await engine.inboxes.accept({
      id,
      sender: envelope.header.sender.deviceId,
      envelope: JSON.stringify(envelope),
      devices,
      meta: '{}',
      rate: { keys: [], windowMs: 60_000, max: 1_000_000 },
    });
    return result;
  };

  beforeAll(async () => {
    world = await buildWorld(Date.now());
    engine = new RedisEngine({ url: REDIS_URL, prefix, retentionMs: 60_000 });
    redis = new Redis(REDIS_URL);
    gateway = await startTestGateway(engine, world);
  });
  afterAll(async () => {
    for (const c of clients) c.stop();
    await gateway.close();
    await engine.destroy();
    await engine.close();
    redis.disconnect();
  });

  it('a months-old FLASH alert planted again after the reader restarted is refused, not shown', async () => {
    const alert = await seal(
      world,
      device(world, 'KZ-KORDAI/desk-1'),
      ['KG-AKZHOL'],
      flash('Heroin in a white Lexus LX'),
    );
    await plant(alert);
    const first = reader();
    const shown = waitFor(first, 'message', (m) => m.id === alert.header.id);
    await first.start();
    await shown;
    first.stop();
    // The state a device keeps across restarts (the CLI's state file, the Console's vault).
    const saved = first.sequenceState;
    expect(await engine.inboxes.pending(READER)).toBe(0);

    await plant(alert);
    const again = reader({ sequences: saved });
    const messages: string[] = [];
    again.on('message', (m) => messages.push(m.id));
    const refused = waitFor(again, 'problem', (p) => p.id === alert.header.id);
    await again.start();
    expect((await refused).code).toBe('ENVELOPE_REPLAYED');
    expect(messages).toEqual([]);
    again.stop();
  });

  it('the same replay is refused once the reader has seen a thousand newer envelopes', async () => {
    const sender = device(world, 'KZ-KORDAI/desk-1');
    const old = await seal(world, sender, ['KG-AKZHOL'], chat('the old one'));
    const watcher = reader();
    const shown = waitFor(watcher, 'message', (m) => m.id === old.header.id);
    await plant(old);
    await watcher.start();
    await shown;
    watcher.stop();
    // Past the reader's memory of ids: only the counter tells the replay from news now.
    const state = watcher.sequenceState;
    const forgetful = { ...state, recent: [] };
    await plant(old);
    const again = reader({ sequences: forgetful });
    const refused = waitFor(again, 'problem', (p) => p.id === old.header.id);
    await again.start();
    expect((await refused).code).toBe('ENVELOPE_REPLAYED');
    again.stop();
  });

  it('an envelope left out of a sender’s sequence is reported as possibly missing', async () => {
    const sender = device(world, 'KZ-KORDAI/desk-1');
    const sent = [
      await seal(world, sender, ['KG-AKZHOL'], chat('one')),
      await seal(world, sender, ['KG-AKZHOL'], chat('two')),
      await seal(world, sender, ['KG-AKZHOL'], chat('three')),
    ] as const;
    const c = reader();
    const ids: string[] = [];
    c.on('message', (m) => ids.push(m.id));
    const third = waitFor(c, 'message', (m) => m.id === sent[2].header.id);
    const missing = waitFor(c, 'missing');
    // The hostile side stores the first and the third for the reader, not the second.
    await plant(sent[0]);
    await plant(sent[2]);
    await c.start();
    await third;
    const gap = await missing;
    expect(gap).toMatchObject({ sender: 'KZ-KORDAI/desk-1', from: 'KZ-KORDAI', to: ['KG-AKZHOL'] });
    expect(gap.counters).toEqual([sent[1].header.counter, sent[1].header.counter]);
    expect(ids).toContain(sent[0].header.id);
    expect(ids).not.toContain(sent[1].header.id);

    // Delivered late after all, it is shown and no longer missing.
    const late = waitFor(c, 'message', (m) => m.id === sent[1].header.id);
    await plant(sent[1]);
    await late;
    const counter = sent[1].header.counter;
    const stillMissing = Object.values(c.sequenceState.received).flatMap((s) => s.missing);
    expect(stillMissing.filter(([from, to]) => from <= counter && counter <= to)).toEqual([]);
    c.stop();
  });

  it('an envelope older than the reader accepts is refused, even on first sight', async () => {
    const sender = device(world, 'KZ-KORDAI/desk-1');
    const stale = await sealEnvelope({
      sender,
      to: ['KG-AKZHOL'],
      body: chat('from long ago'),
      recipients: world.directory.recipientKeys(['KG-AKZHOL'], Date.now()),
      counter: 1,
      directory: world.directory.head,
      createdAt: Date.now() - 2 * 3_600_000,
    });
    await plant(stale);
    const c = reader({ maxEnvelopeAgeMs: 3_600_000 });
    const refused = waitFor(c, 'problem', (p) => p.id === stale.header.id);
    await c.start();
    expect((await refused).code).toBe('ENVELOPE_TOO_OLD');
    c.stop();
  });
});

describe('a reader that lacks its own key keeps the envelope on the gateway', () => {
  let world: World;
  let engine: RedisEngine;
  let gateway: Gateway;
  const clients: LiaisonClient[] = [];
  const READER = 'KG-AKZHOL/desk-1';

  beforeAll(async () => {
    world = await buildWorld(Date.now());
    engine = new RedisEngine({
      url: REDIS_URL,
      prefix: `liaison-test:${randomUUID()}:`,
      retentionMs: 60_000,
    });
    gateway = await startTestGateway(engine, world);
  });
  afterAll(async () => {
    for (const c of clients) c.stop();
    await gateway.close();
    await engine.destroy();
    await engine.close();
  });

  const readerWith = (keys: DeviceKeys, options: Partial<ClientOptions> = {}) => {
    const c = new LiaisonClient({
      url: gateway.url,
      audience: AUDIENCE,
      keys,
      authority: world.directory.authority,
      ...options,
    });
    clients.push(c);
    return c;
  };

  it('reports OWN_KEY_MISSING, acknowledges nothing from there, and opens it once the key is back', async () => {
    const sender = device(world, 'KZ-KORDAI/desk-1');
    const oldKeys = device(world, READER);
    const backlog = await seal(world, sender, ['KG-AKZHOL'], chat('sealed to the old key'));
    const stored = await engine.inboxes.accept({
      id: backlog.header.id,
      sender: sender.deviceId,
      envelope: JSON.stringify(backlog),
      devices: [READER],
      meta: '{}',
      rate: { keys: [], windowMs: 60_000, max: 1_000_000 },
    });
    // The reader rotates; its new installation lost the old private key.
    const newKeys = await rotate(world, oldKeys, Date.now() - 1000);
    await gateway.sync.submit(world.directory.statements(gateway.sync.directory.version));
    await gateway.sync.submitHead(await signedHead(world));
    const after = await seal(world, sender, ['KG-AKZHOL'], chat('sealed to the new key'));
    await engine.inboxes.accept({
      id: after.header.id,
      sender: sender.deviceId,
      envelope: JSON.stringify(after),
      devices: [READER],
      meta: '{}',
      rate: { keys: [], windowMs: 60_000, max: 1_000_000 },
    });

    const lost = readerWith(newKeys);
    const refused = waitFor(lost, 'problem', (p) => p.id === backlog.header.id);
    const shown = waitFor(lost, 'message', (m) => m.id === after.header.id);
    await lost.start();
    expect((await refused).code).toBe('OWN_KEY_MISSING');
    await shown;
    lost.stop();
    const offset = stored.offsets[READER] as number;
    expect(lost.heldOffset).toBe(offset);
    // Nothing from the held envelope on was acknowledged: the gateway still has both.
    expect(await engine.inboxes.pending(READER)).toBe(2);

    // The old key restored from a backup: resumed from the held offset, the backlog opens.
    const restored = readerWith(newKeys, {
      pastKeys: [oldKeys],
      lastOffset: offset - 1,
      sequences: lost.sequenceState,
    });
    const opened = waitFor(restored, 'message', (m) => m.id === backlog.header.id);
    await restored.start();
    expect((await opened).body).toEqual(chat('sealed to the old key'));
    expect(restored.heldOffset).toBeUndefined();
    restored.stop();
  });
});
