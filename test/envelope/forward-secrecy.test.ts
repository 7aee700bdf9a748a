// Forward secrecy as an attacker tests it (PROTOCOL.md §5.6): steal a device's key file and its
// saved prekey state, and try to open what was sent to it before; and the other side of the
// bargain, a device offline for days still opens everything queued for it.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Signed } from '../../protocol/v1/certificate.js';
import type { Envelope } from '../../protocol/v1/envelope.js';
import { PrekeyGetAck, PrekeyPublishAck } from '../../protocol/v1/events.js';
import { PREKEY_LIFETIME_MS, type PrekeyPayload } from '../../protocol/v1/prekey.js';
import type { Message } from '../../src/client/client.js';
import { request as clientRequest, openSocket, untilConnected } from '../../src/client/socket.js';
import { makePrekey, pickPrekey, signPrekey } from '../../src/crypto/prekey.js';
import { PrekeyStore } from '../../src/crypto/prekey-store.js';
import { fromBase64Url, sodium } from '../../src/crypto/sodium.js';
import { createClientToken } from '../../src/crypto/token.js';
import { keyspace } from '../../src/engine/keyspace.js';
import { RedisEngine } from '../../src/engine/redis.js';
import { openEnvelope } from '../../src/envelope/open.js';
import { sealEnvelope } from '../../src/envelope/seal.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import { testClients, waitFor } from '../fixtures/client.js';
import { REDIS_URL } from '../fixtures/engines.js';
import { AUDIENCE, startTestGateway } from '../fixtures/gateway.js';
import { buildWorld, DAY, device, type World } from '../fixtures/world.js';

const RETENTION = 30 * DAY;
const payloadOf = (signed: Signed): PrekeyPayload =>
  JSON.parse(Buffer.from(signed.payload, 'base64url').toString('utf8'));

describe('forward secrecy through a real gateway', () => {
  let world: World;
  let engine: RedisEngine;
  let gateway: Gateway;
  let prefix: string;
  let redis: Redis;
  const { client, stopAll } = testClients(
    () => gateway,
    () => world,
  );

  beforeAll(async () => {
    world = await buildWorld(Date.now());
    prefix = `liaison-test:${randomUUID()}:`;
    engine = new RedisEngine({ url: REDIS_URL, prefix, retentionMs: 60_000 });
    redis = new Redis(REDIS_URL);
    gateway = await startTestGateway(engine, world);
  });
  afterEach(stopAll);
  afterAll(async () => {
    await gateway.close();
    await engine.destroy();
    await engine.close();
    redis.disconnect();
  });

  it('a stolen laptop opens nothing sent before its forward-secrecy window', async () => {
    const receiver = client('KG-AKZHOL/desk-1');
    const received: Message[] = [];
    receiver.on('message', (m) => received.push(m));
    await receiver.start();
    const sender = client('KZ-KORDAI/desk-1');
    await sender.start();
    const arrived = waitFor(receiver, 'message');
    const id = await sender.sendChat('KG-AKZHOL', 'Convoy of 3 trucks at 10:40');
    await arrived;
    expect(received.map((m) => m.id)).toEqual([id]);
    // The thief's view of the wire: the envelope as any gateway or Redis reader keeps it.
    const recipients = await hubStreamRecipients(redis, prefix, id);
    const captured = recipients.envelope;
    const mine = recipients.entries.find((r) => r.deviceId === 'KG-AKZHOL/desk-1');
    const hub = recipients.entries.find((r) => r.deviceId === 'CARICC/hub');
    expect(mine?.prekeyId).toBeDefined();
    // The hub (not running here) has published nothing: its wrap falls back, visibly.
    expect(hub?.prekeyId).toBeUndefined();

    const keys = device(world, 'KG-AKZHOL/desk-1');
    const saved = receiver.prekeyState;
    // Stolen today, the state opens it: the window is real, not a test that cannot fail.
    const today = PrekeyStore.open(keys, saved);
    const opened = await openEnvelope(
      captured,
      keys,
      world.directory,
      Date.now(),
      {},
      { own: today },
    );
    expect(opened.body).toEqual({ type: 'chat', text: 'Convoy of 3 trucks at 10:40' });

    // The laptop stays in use for nine days, draining its inbox each day (what the SDK does after
    // every catch-up), then is seized with its key file and its saved state.
    const device9 = PrekeyStore.open(keys, saved);
    for (let day = 1; day <= 9; day++) {
      const now = Date.now() + day * DAY;
      device9.schedule(now);
      device9.retire(now, now, RETENTION);
    }
    const stolen = PrekeyStore.open(keys, device9.seal());
    await expect(
      openEnvelope(captured, keys, world.directory, Date.now(), {}, { own: stolen }),
    ).rejects.toMatchObject({ code: 'OWN_KEY_MISSING' });
    // Nor does the certified key, which the thief also has, open the wrap.
    const wrap = fromBase64Url(mine?.wrappedKey as string);
    expect(() =>
      sodium.crypto_box_seal_open(wrap, keys.encryptionPublicKey, keys.encryptionSecretKey),
    ).toThrow();
  });

  it('a device offline for six days opens everything queued for it, then forgets it', async () => {
    const keys = device(world, 'KG-AKZHOL/duty-1');
    const sender = device(world, 'KZ-KORDAI/desk-1');
    const day0 = Math.floor(Date.now() / DAY) * DAY;
    // Day 0: the device publishes its week ahead through the gateway, then goes offline.
    const store = new PrekeyStore(keys);
    const published = store.published(day0);
    const state = store.seal();
    await publishThroughGateway(gateway, keys, published);
    const served = await prekeysServed(gateway, sender, keys.deviceId);
    expect(served.map((s) => payloadOf(s).prekeyId).sort()).toEqual(
      published
        .map((s) => payloadOf(s).prekeyId)
        .filter((_, i) => i < 10)
        .sort(),
    );

    // Days 0–5: senders pick its prekey of the day from what the gateway served.
    const certificate = world.directory.usableKey(keys.deviceId, keys.keyId, Date.now());
    const queued: Envelope[] = [];
    for (let day = 0; day < 6; day++) {
      const createdAt = day0 + day * DAY + 3_600_000;
      const prekey = pickPrekey(served, certificate, createdAt);
      queued.push(
        await sealEnvelope({
          sender,
          to: ['KG-AKZHOL'],
          body: { type: 'chat', text: `day ${day}` },
          recipients: [
            {
              ...certificate,
              prekeyId: prekey.prekeyId,
              encryptionPublicKey: prekey.publicKeyBytes,
            },
            ...world.directory.recipientKeys([], createdAt),
          ],
          counter: day + 1,
          createdAt,
          directory: world.directory.head,
        }),
      );
    }
    expect(new Set(queued.map((e) => e.recipients[0]?.prekeyId)).size).toBe(6);

    // Day 6: back online with the state saved on day 0; not drained since, so nothing was deleted.
    const back = day0 + 6 * DAY + 3_600_000;
    const returned = PrekeyStore.open(keys, state);
    returned.retire(back, day0, RETENTION);
    for (const [day, envelope] of queued.entries()) {
      const opened = await openEnvelope(
        envelope,
        keys,
        world.directory,
        back,
        {},
        { own: returned },
      );
      expect(opened.body).toEqual({ type: 'chat', text: `day ${day}` });
    }
    // Drained: everything before today is deleted, and stays deleted in the saved state.
    returned.retire(back + 60_000, back + 60_000, RETENTION);
    const after = PrekeyStore.open(keys, returned.seal());
    await expect(
      openEnvelope(queued[0], keys, world.directory, back, {}, { own: after }),
    ).rejects.toMatchObject({ code: 'OWN_KEY_MISSING' });
  });

  it('a Redis writer can withhold prekeys (the send says so) but never plant one', async () => {
    const receiver = client('KG-AKZHOL/desk-1');
    await receiver.start();
    const victim = device(world, 'KG-AKZHOL/desk-1');
    const board = keyspace(prefix).prekeys(victim.deviceId);
    // Planted: a prekey for the victim's device, signed by another device's key.
    const intruder = device(world, 'KZ-KORDAI/duty-1');
    const planted = makePrekey(
      { ...intruder, deviceId: victim.deviceId, keyId: victim.keyId },
      Math.floor(Date.now() / PREKEY_LIFETIME_MS) * PREKEY_LIFETIME_MS,
      Date.now(),
    );
    const forged = signPrekey(planted.payload, intruder);
    await redis.del(board);
    await redis.hset(
      board,
      planted.payload.prekeyId,
      `${planted.payload.notAfter}|${JSON.stringify(forged)}`,
    );

    const sender = client('KZ-KORDAI/desk-1');
    const downgraded: string[][] = [];
    sender.on('withoutForwardSecrecy', (w) => downgraded.push(w.deviceIds));
    await sender.start();
    const arrived = waitFor(receiver, 'message');
    const id = await sender.sendChat('KG-AKZHOL', 'who reads this?');
    await arrived;
    const { entries } = await hubStreamRecipients(redis, prefix, id);
    const wrap = entries.find((r) => r.deviceId === victim.deviceId);
    expect(wrap?.prekeyId).toBeUndefined();
    expect(wrap?.prekeyId).not.toBe(planted.payload.prekeyId);
    expect(downgraded[0]).toContain(victim.deviceId);

    // A sender that requires forward secrecy stops instead.
    const strict = client('KZ-KORDAI/desk-1', { requireForwardSecrecy: true });
    await strict.start();
    await expect(strict.sendChat('KG-AKZHOL', 'only with forward secrecy')).rejects.toMatchObject({
      code: 'PREKEY_MISSING',
    });
  });

  it('a device that lost its prekey state publishes new prekeys, and senders move to them', async () => {
    const keys = device(world, 'UZ-OYBEK/desk-1');
    const sender = device(world, 'KZ-KORDAI/duty-1');
    const day = Math.floor(Date.now() / DAY) * DAY;
    const lost = new PrekeyStore(keys).published(day);
    await publishThroughGateway(gateway, keys, lost);
    // Reinstalled: a new chain, published in place of the old one.
    const fresh = new PrekeyStore(keys);
    const now = fresh.published(day);
    await publishThroughGateway(gateway, keys, now);
    const served = (await prekeysServed(gateway, sender, keys.deviceId)).map(
      (s) => payloadOf(s).prekeyId,
    );
    expect(served.sort()).toEqual(now.map((s) => payloadOf(s).prekeyId).sort());
    for (const old of lost) expect(served).not.toContain(payloadOf(old).prekeyId);
  });

  it('the gateway refuses a prekey not signed by the session device’s key', async () => {
    const keys = device(world, 'KG-AKZHOL/desk-1');
    const other = device(world, 'KZ-KORDAI/desk-1');
    const start = Math.floor(Date.now() / PREKEY_LIFETIME_MS) * PREKEY_LIFETIME_MS;
    const theirs = signPrekey(makePrekey(other, start, Date.now()).payload, other);
    await expect(publishThroughGateway(gateway, keys, [theirs])).rejects.toMatchObject({
      code: 'PREKEY_INVALID',
    });
    const tooFar = makePrekey(keys, start + 30 * PREKEY_LIFETIME_MS, Date.now());
    await expect(
      publishThroughGateway(gateway, keys, [signPrekey(tooFar.payload, keys)]),
    ).rejects.toMatchObject({ code: 'PREKEY_INVALID' });
  });
});

/** The envelope the gateway put on the hub stream for `id`, and its wrapped keys. */
async function hubStreamRecipients(redis: Redis, prefix: string, id: string) {
  const items = await redis.xrange(keyspace(prefix).hubStream, '-', '+');
  for (const [, fields] of items) {
    const text = fields[fields.indexOf('envelope') + 1] as string;
    const envelope = JSON.parse(text) as Envelope;
    if (envelope.header.id === id) return { envelope, entries: envelope.recipients };
  }
  throw new Error(`envelope ${id} is not on the hub stream`);
}

async function session(gateway: Gateway, keys: ReturnType<typeof device>) {
  const socket = openSocket(gateway.url, () => createClientToken(keys, { audience: AUDIENCE }));
  await untilConnected(socket);
  return socket;
}

async function publishThroughGateway(
  gateway: Gateway,
  keys: ReturnType<typeof device>,
  prekeys: Signed[],
) {
  const socket = await session(gateway, keys);
  try {
    return await clientRequest(
      socket,
      'prekeys:publish',
      { prekeys: prekeys.slice(0, 10) },
      PrekeyPublishAck,
    );
  } finally {
    socket.close();
  }
}

async function prekeysServed(gateway: Gateway, asker: ReturnType<typeof device>, deviceId: string) {
  const socket = await session(gateway, asker);
  try {
    const { prekeys } = await clientRequest(
      socket,
      'prekeys:get',
      { deviceIds: [deviceId] },
      PrekeyGetAck,
    );
    return prekeys.find((p) => p.deviceId === deviceId)?.prekeys ?? [];
  } finally {
    socket.close();
  }
}
