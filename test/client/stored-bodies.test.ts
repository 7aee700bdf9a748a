import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Envelope } from '../../protocol/v1/envelope.js';
import { LiaisonClient } from '../../src/client/client.js';
import { keyspace } from '../../src/engine/keyspace.js';
import { RedisEngine } from '../../src/engine/redis.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import { waitFor } from '../fixtures/client.js';
import { REDIS_URL } from '../fixtures/engines.js';
import { AUDIENCE, chat, connect, request, seal, startTestGateway } from '../fixtures/gateway.js';
import { metric } from '../fixtures/metrics.js';
import { buildWorld, device, type World } from '../fixtures/world.js';

// The gateway stores each envelope once and inboxes refer to it. Someone who can write to Redis
// can delete a stored envelope or write something else in its place: the gateway must say so
// (ENVELOPE_LOST), and the client must not show anything it cannot verify.

interface FetchAnswer {
  ok: boolean;
  items: { offset: number; envelope: Envelope }[];
  lost?: { offset: number; id: string; code: string }[];
}

describe('a Redis writer deletes or overwrites stored envelopes', () => {
  let world: World;
  let engine: RedisEngine;
  let gateway: Gateway;
  let redis: Redis;
  const prefix = `liaison-test:${randomUUID()}:`;
  const keys = keyspace(prefix);
  const clients: LiaisonClient[] = [];
  const READER = 'KG-AKZHOL/desk-1';

  /** Three chats from KZ-KORDAI/desk-1 in the reader's inbox, at offsets after those before. */
  const storeThree = async () => {
    const sender = device(world, 'KZ-KORDAI/desk-1');
    const sent: Envelope[] = [];
    for (const text of ['one', 'two', 'three']) {
      const envelope = await seal(world, sender, ['KG-AKZHOL'], chat(text));
      await engine.inboxes.accept({
        id: envelope.header.id,
        sender: sender.deviceId,
        envelope: JSON.stringify(envelope),
        devices: [READER],
        meta: '{}',
        rate: { keys: [], windowMs: 60_000, max: 1_000_000 },
      });
      sent.push(envelope);
    }
    return sent as [Envelope, Envelope, Envelope];
  };

  /** A reader that shows messages and reports problems, started; resolves once `last` shows. */
  const readUntil = async (last: string) => {
    const c = new LiaisonClient({
      url: gateway.url,
      audience: AUDIENCE,
      keys: device(world, READER),
      authority: world.directory.authority,
    });
    clients.push(c);
    const shown: string[] = [];
    const problems: { code: string; id?: string }[] = [];
    c.on('message', (m) => shown.push(m.id));
    c.on('problem', ({ code, id }) => problems.push({ code, ...(id ? { id } : {}) }));
    const done = waitFor(c, 'message', (m) => m.id === last);
    await c.start();
    await done;
    return { client: c, shown, problems };
  };

  beforeAll(async () => {
    world = await buildWorld(Date.now());
    engine = new RedisEngine({ url: REDIS_URL, prefix, retentionMs: 60_000 });
    redis = new Redis(REDIS_URL);
    gateway = await startTestGateway(engine, world);
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.stop();
  });
  afterAll(async () => {
    await gateway.close();
    await engine.destroy();
    await engine.close();
    redis.disconnect();
  });

  it('a deleted envelope is reported ENVELOPE_LOST at its offset; the reader shows the rest and acknowledges past it', async () => {
    const [one, two, three] = await storeThree();
    await redis.del(keys.envelope(two.header.id));

    const socket = await connect(gateway, device(world, READER));
    const page = await request<FetchAnswer>(socket, 'inbox:fetch', { after: 0, limit: 100 });
    socket.close();
    expect(page.ok).toBe(true);
    expect(page.items.map((item) => item.envelope.header.id)).toEqual([
      one.header.id,
      three.header.id,
    ]);
    expect(page.lost).toEqual([{ offset: 2, id: two.header.id, code: 'ENVELOPE_LOST' }]);
    expect(await metric(gateway, 'liaison_inbox_lost_total')).toBe(1);

    const { client, shown, problems } = await readUntil(three.header.id);
    expect(shown).toEqual([one.header.id, three.header.id]);
    expect(problems).toContainEqual({ code: 'ENVELOPE_LOST', id: two.header.id });
    await expect.poll(() => engine.inboxes.pending(READER)).toBe(0);
    expect(client.offset).toBe(3);
    // Nothing of the three is left in Redis: the lost entry was released like the others.
    expect(await redis.exists(...[one, two, three].map((e) => keys.envelope(e.header.id)))).toBe(0);
  });

  it('a page of lost envelopes only is acknowledged too', async () => {
    const sent = await storeThree();
    for (const envelope of sent) await redis.del(keys.envelope(envelope.header.id));
    const c = new LiaisonClient({
      url: gateway.url,
      audience: AUDIENCE,
      keys: device(world, READER),
      authority: world.directory.authority,
    });
    clients.push(c);
    const reported: string[] = [];
    c.on('problem', ({ code, id }) => {
      if (code === 'ENVELOPE_LOST' && id) reported.push(id);
    });
    await c.start();
    await expect.poll(() => engine.inboxes.pending(READER)).toBe(0);
    expect(reported).toEqual(sent.map((e) => e.header.id));
  });

  it('a stored envelope overwritten with another one is not delivered in its place', async () => {
    const [one, two, three] = await storeThree();
    // A valid, signed envelope, but not the one the inbox entry names.
    await redis.hset(keys.envelope(two.header.id), 'body', JSON.stringify(three));
    const { shown, problems } = await readUntil(three.header.id);
    expect(shown).toEqual([one.header.id, three.header.id]);
    expect(problems).toContainEqual({ code: 'ENVELOPE_LOST', id: two.header.id });
  });

  it('a stored envelope altered in place is refused by the reader, not shown', async () => {
    const [one, two, three] = await storeThree();
    const { ciphertext } = two;
    const altered = {
      ...two,
      ciphertext: (ciphertext[0] === 'A' ? 'B' : 'A') + ciphertext.slice(1),
    };
    await redis.hset(keys.envelope(two.header.id), 'body', JSON.stringify(altered));
    const { shown, problems } = await readUntil(three.header.id);
    expect(shown).toEqual([one.header.id, three.header.id]);
    expect(problems).toContainEqual({ code: 'SIGNATURE_INVALID', id: two.header.id });
  });
});
