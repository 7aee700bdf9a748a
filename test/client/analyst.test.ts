import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Body } from '../../protocol/v1/payload.js';
import { createClientToken } from '../../src/crypto/token.js';
import { RedisEngine } from '../../src/engine/redis.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import { type Hub, startHub } from '../../src/hub/service.js';
import { HubStore } from '../../src/hub/store.js';
import { AnalystClient, type AnalystEvents, type AnalystOptions } from '../../src/index.js';
import { enroll, nextStatement } from '../fixtures/directory-changes.js';
import { REDIS_URL } from '../fixtures/engines.js';
import { connect, flash, request, seal, startTestGateway } from '../fixtures/gateway.js';
import { buildWorld, device, type World } from '../fixtures/world.js';

const HUB_AUDIENCE = 'liaison-test-hub';

/** Resolves with the first event of that kind that matches. */
function waitFor<K extends keyof AnalystEvents>(
  client: AnalystClient,
  event: K,
  matches: (value: AnalystEvents[K]) => boolean = () => true,
): Promise<AnalystEvents[K]> {
  return new Promise((resolve) => {
    const off = client.on(event, (value) => {
      if (!matches(value)) return;
      off();
      resolve(value);
    });
  });
}

describe('the analyst SDK against a real hub', () => {
  let world: World;
  const prefix = `liaison-test:${randomUUID()}:`;
  let engines: RedisEngine[];
  let store: HubStore;
  let gateway: Gateway;
  let hub: Hub;
  const clients: AnalystClient[] = [];
  const analyst = (options: Partial<AnalystOptions> = {}) => {
    const client = new AnalystClient({
      url: hub.url,
      audience: HUB_AUDIENCE,
      keys: device(world, 'CARICC/analyst-1'),
      authority: world.directory.authority,
      ...options,
    });
    clients.push(client);
    return client;
  };
  /** Sends from Kordai to Ak-Zhol through the gateway; resolves with the envelope id. */
  const send = async (body: Body) => {
    const kordai = await connect(gateway, device(world, 'KZ-KORDAI/desk-1'));
    try {
      const envelope = await seal(world, device(world, 'KZ-KORDAI/desk-1'), ['KG-AKZHOL'], body);
      expect(await request(kordai, 'envelope:send', envelope)).toMatchObject({ ok: true });
      return envelope.header.id;
    } finally {
      kordai.close();
    }
  };

  beforeAll(async () => {
    world = await buildWorld(Date.now());
    world.devices['CARICC/analyst-2'] = await enroll(
      world,
      'CARICC/analyst-2',
      undefined,
      'analyst',
    );
    engines = [0, 1].map(() => new RedisEngine({ url: REDIS_URL, prefix, retentionMs: 60_000 }));
    store = new HubStore(REDIS_URL, prefix);
    gateway = await startTestGateway(engines[0] as RedisEngine, world);
    hub = await startHub(
      {
        host: '127.0.0.1',
        port: 0,
        audience: HUB_AUDIENCE,
        consumer: 'analyst-sdk-test',
        deadlines: { FLASH: 300, IMMEDIATE: 600 },
        retentionMs: 3_600_000,
      },
      {
        engine: engines[1] as RedisEngine,
        store,
        hubKeys: device(world, 'CARICC/hub'),
        authority: world.directory.authority,
        logger: pino({ level: 'silent' }),
      },
    );
  });
  afterAll(async () => {
    for (const client of clients) client.stop();
    await hub?.close();
    await gateway?.close();
    await store?.close();
    await engines[0]?.destroy();
    for (const engine of engines ?? []) await engine.close();
  });

  it('catches up on the record, then follows it live, filtered, in order, each entry once', async () => {
    const earlier = [
      await send({ type: 'chat', text: 'one' }),
      await send(flash('Two', 'illegal-crossing')),
    ];
    await expect
      .poll(async () => (await analyst().searchRecord()).entries.length, { timeout: 10_000 })
      .toBeGreaterThanOrEqual(2);

    const chats = analyst({ filter: { kind: 'chat' } });
    const seen: string[] = [];
    const seqs: number[] = [];
    chats.on('record', (e) => {
      seen.push(String(e.id));
      seqs.push(e.seq);
    });
    await chats.start();
    expect(seen).toEqual([earlier[0]]);

    await send(flash('Three', 'illegal-crossing'));
    const live = await send({ type: 'chat', text: 'four' });
    const arrived = await waitFor(chats, 'record', (e) => e.id === live);
    expect(arrived).toMatchObject({ kind: 'chat', from: 'KZ-KORDAI', to: ['KG-AKZHOL'] });
    expect(arrived.body).toEqual({ type: 'chat', text: 'four' });
    expect(seen).toEqual([earlier[0], live]);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(chats.seq).toBe(arrived.seq);
  });

  it('searches the record over HTTP in pages', async () => {
    const client = analyst();
    const first = await client.searchRecord({ office: 'KZ-KORDAI' }, { limit: 1 });
    expect(first.entries).toHaveLength(1);
    expect(first.more).toBe(true);
    const second = await client.searchRecord({ office: 'KZ-KORDAI' }, { after: first.next });
    expect(second.entries[0]?.seq).toBeGreaterThan(first.entries[0]?.seq ?? Infinity);
    await expect(client.searchRecord({ border: 'nowhere' })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
  });

  it('reports an overdue FLASH alert as an escalation', async () => {
    const client = analyst({ filter: { precedence: 'FLASH' }, after: 1_000_000 });
    await client.start();
    const alertId = await send(flash('Crossing outside the post', 'illegal-crossing'));
    expect(await waitFor(client, 'escalation', (e) => e.alertId === alertId)).toMatchObject({
      alertId,
      precedence: 'FLASH',
      from: 'KZ-KORDAI',
      to: ['KG-AKZHOL'],
    });
  });

  it('verifies the directory against the pinned authority when given where it is served', async () => {
    const client = analyst({ directoryUrl: gateway.url, after: 1_000_000 });
    await client.start();
    expect(client.directory.version).toBe(world.directory.version);
    expect(client.directory.linkedOffices('KZ-KORDAI')).toEqual(['KG-AKZHOL']);

    const stranger = await buildWorld(Date.now());
    const fooled = analyst({ directoryUrl: gateway.url, authority: stranger.directory.authority });
    await expect(fooled.start()).rejects.toMatchObject({ code: 'CERT_UNTRUSTED' });
  });

  it('refuses an office device: offices read their own traffic, not the record', async () => {
    const office = analyst({ keys: device(world, 'KZ-KORDAI/desk-1') });
    await expect(office.start()).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('refuses a filter the hub cannot use, with its code', async () => {
    const client = analyst({ filter: { border: 'KZ' } as never });
    await expect(client.start()).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('when the hub ends an expired session, reconnects with a fresh token and resumes without repeats', {
    timeout: 60_000,
  }, async () => {
    const client = analyst({ tokenLifetimeSeconds: 2, filter: { kind: 'chat' } });
    const ids: (string | undefined)[] = [];
    client.on('record', (e) => ids.push(String(e.id)));
    await client.start();
    const before = ids.length;
    const ended = waitFor(client, 'disconnected');
    const back = waitFor(client, 'connected');
    expect(await ended).toEqual({ reason: 'io server disconnect' });
    await back;
    const after = await send({ type: 'chat', text: 'after a new token' });
    await waitFor(client, 'record', (e) => e.id === after);
    expect(ids.slice(before)).toEqual([after]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('on /analyst a fresh token of the same analyst extends the session, another’s is refused, and an expired one is closed with a code', {
    timeout: 60_000,
  }, async () => {
    const token = (keys: ReturnType<typeof device>, lifetimeSeconds: number) =>
      createClientToken(keys, { audience: HUB_AUDIENCE, lifetimeSeconds });
    const raw = io(`${hub.url}/analyst`, {
      auth: { token: await token(device(world, 'CARICC/analyst-1'), 3) },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    try {
      await new Promise((done) => raw.once('connect', () => done(undefined)));
      const other = await raw.timeout(10_000).emitWithAck('token:refresh', {
        token: await token(device(world, 'CARICC/analyst-2'), 60),
      });
      expect(other).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
      const fresh = await raw.timeout(10_000).emitWithAck('token:refresh', {
        token: await token(device(world, 'CARICC/analyst-1'), 60),
      });
      expect(fresh).toMatchObject({ ok: true });
      expect(fresh.expiresAt).toBeGreaterThan(Date.now() + 30_000);
    } finally {
      raw.close();
    }

    // Without a refresh the hub says why before it closes.
    const lapsing = io(`${hub.url}/analyst`, {
      auth: { token: await token(device(world, 'CARICC/analyst-1'), 2) },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    try {
      const closing = new Promise((done) => lapsing.once('session:closing', done));
      await new Promise((done) => lapsing.once('connect', () => done(undefined)));
      expect(await closing).toMatchObject({ code: 'TOKEN_EXPIRED' });
    } finally {
      lapsing.close();
    }
  });

  it('a revoked analyst loses the feed at once and is told why', async () => {
    const client = analyst({ keys: device(world, 'CARICC/analyst-2'), after: 1_000_000 });
    await client.start();
    const closed = waitFor(client, 'closed');
    const revocation = await nextStatement(world, 'device.revoked', {
      deviceId: 'CARICC/analyst-2',
      reason: 'compromised',
    });
    await gateway.sync.submit([revocation]);
    expect((await closed).error).toMatchObject({ code: 'DEVICE_REVOKED' });
  });

  it('a hub no analyst follows takes no copy of each entry from Redis; the first analyst brings the feed, the last one ends it', async () => {
    const redis = new Redis(REDIS_URL);
    const followers = async () => {
      const [, count] = (await redis.pubsub('NUMSUB', `${prefix}hub:recorded`)) as [string, number];
      return count;
    };
    try {
      for (const client of clients.splice(0)) client.stop();
      await expect.poll(followers, { timeout: 10_000 }).toBe(0);
      const first = analyst();
      const second = analyst();
      await first.start();
      await second.start();
      expect(await followers()).toBe(1);
      first.stop();
      const live = await send({ type: 'chat', text: 'still followed' });
      await waitFor(second, 'record', (e) => e.id === live);
      second.stop();
      await expect.poll(followers, { timeout: 10_000 }).toBe(0);
    } finally {
      redis.disconnect();
    }
  });
});
