import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RawData } from 'ws';
import { decodeCompactEnvelope, encodeCompactEnvelope } from '../../protocol/v1/compact.js';
import type { Envelope } from '../../protocol/v1/envelope.js';
import { createClientToken } from '../../src/crypto/token.js';
import { RedisEngine } from '../../src/engine/redis.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import { parseEntry } from '../../src/hub/record.js';
import { HubStore } from '../../src/hub/store.js';
import { testClients, waitFor } from '../fixtures/client.js';
import { REDIS_URL, storedBodies } from '../fixtures/engines.js';
import {
  AUDIENCE,
  chat,
  connect,
  expectCanaryServed,
  next,
  request,
  seal,
  startTestGateway,
} from '../fixtures/gateway.js';
import { testRecorder } from '../fixtures/hub.js';
import { openRawSocket } from '../fixtures/raw-socket.js';
import { buildWorld, device, type World } from '../fixtures/world.js';

// The compact encoding (PROTOCOL.md §9.5) through a real gateway on real Redis: asked for at the
// handshake, confirmed by the gateway, and only a spelling — a compact desk and a JSON desk talk
// to each other, and what is stored is the same text a JSON client's envelope is stored as.

const compactAuth = async (world: World, deviceId: string) => ({
  token: await createClientToken(device(world, deviceId), { audience: AUDIENCE }),
  encoding: 'compact',
});

describe('compact envelopes through a real gateway', () => {
  let world: World;
  let engine: RedisEngine;
  let gateway: Gateway;
  let store: HubStore;
  const prefix = `liaison-test:${randomUUID()}:`;
  const clients = testClients(
    () => gateway,
    () => world,
  );

  beforeAll(async () => {
    world = await buildWorld(Date.now());
    engine = new RedisEngine({ url: REDIS_URL, prefix, retentionMs: 60_000 });
    gateway = await startTestGateway(engine, world);
    store = new HubStore(REDIS_URL, prefix);
    await store.stream.ensureGroup('hub');
  });
  afterEach(() => clients.stopAll());
  afterAll(async () => {
    await gateway.close();
    await store.close();
    await engine.destroy();
    await engine.close();
  });

  it('a compact desk and a JSON desk chat both ways; each reads the other', async () => {
    const kordai = clients.client('KZ-KORDAI/desk-1', { encoding: 'compact' });
    const akzhol = clients.client('KG-AKZHOL/desk-1');
    await kordai.start();
    await akzhol.start();
    expect(kordai.encoding).toBe('compact');
    expect(akzhol.encoding).toBe('json');

    const toAkzhol = waitFor(akzhol, 'message');
    const delivered = waitFor(kordai, 'status', (s) => s.status === 'delivered');
    const id = await kordai.sendChat('KG-AKZHOL', 'Салам! Convoy of three trucks at 10:40');
    expect(await toAkzhol).toMatchObject({
      id,
      from: 'KZ-KORDAI',
      body: { type: 'chat', text: 'Салам! Convoy of three trucks at 10:40' },
    });
    await delivered;

    const toKordai = waitFor(kordai, 'message');
    const reply = await akzhol.sendChat('KZ-KORDAI', 'Seen, waiting at the gate');
    expect(await toKordai).toMatchObject({
      id: reply,
      from: 'KG-AKZHOL',
      body: { type: 'chat', text: 'Seen, waiting at the gate' },
    });
  });

  it('a compact desk that was away fetches what it missed, in order, after reconnecting', async () => {
    const first = clients.client('KZ-KORDAI/duty-1', { encoding: 'compact' });
    await first.start();
    const offset = first.offset;
    const prekeyState = first.prekeyState;
    first.stop();

    const akzhol = clients.client('KG-AKZHOL/duty-1');
    await akzhol.start();
    const sent: string[] = [];
    for (const line of ['one', 'two', 'three']) sent.push(await akzhol.sendChat('KZ-KORDAI', line));

    const back = clients.client('KZ-KORDAI/duty-1', {
      encoding: 'compact',
      lastOffset: offset,
      prekeyState,
    });
    const got: string[] = [];
    back.on('message', (m) => {
      if (m.from === 'KG-AKZHOL') got.push(m.id);
    });
    const problems: string[] = [];
    back.on('problem', (p) => problems.push(p.code));
    await back.start();
    expect(back.encoding).toBe('compact');
    expect(got).toEqual(sent);
    expect(problems).toEqual([]);
  });

  it('stores a compact envelope as the very text of its JSON form; the push reads back equal', async () => {
    const receiver = await connect(gateway, device(world, 'KG-AKZHOL/desk-1'), {
      auth: await compactAuth(world, 'KG-AKZHOL/desk-1'),
    });
    const sender = await connect(gateway, device(world, 'KZ-KORDAI/desk-1'), {
      auth: await compactAuth(world, 'KZ-KORDAI/desk-1'),
    });
    try {
      const envelope = await seal(
        world,
        device(world, 'KZ-KORDAI/desk-1'),
        ['KG-AKZHOL'],
        chat('x'),
      );
      const pushed = next<{ envelope: unknown }>(receiver, 'envelope');
      const ack = await request(sender, 'envelope:send', encodeCompactEnvelope(envelope));
      expect(ack).toMatchObject({ ok: true, id: envelope.header.id, duplicate: false });
      const stored = (await storedBodies(engine)).get(envelope.header.id);
      expect(stored?.envelope).toBe(JSON.stringify(envelope));
      const push = await pushed;
      expect(push.envelope).toBeInstanceOf(Uint8Array);
      expect(decodeCompactEnvelope(push.envelope as Uint8Array)).toEqual(envelope);
      // The fetched page spells it the same way.
      const page = await request<{ items: { envelope: Uint8Array }[] }>(receiver, 'inbox:fetch', {
        after: 0,
        limit: 500,
      });
      const item = page.items.find(
        (i) => decodeCompactEnvelope(i.envelope).header.id === envelope.header.id,
      );
      expect(new Uint8Array(item?.envelope ?? [])).toEqual(encodeCompactEnvelope(envelope));
      // The hub reads the same envelope: its signature verifies, the entry is compliant.
      await testRecorder(store, world, 'compact-test').drain();
      const entries = (await store.record.entries(0, 10_000)).map(parseEntry);
      expect(entries.find((e) => e.body.id === envelope.header.id)?.body.status).toBe('compliant');
    } finally {
      receiver.close();
      sender.close();
    }
  });

  it('refuses malformed compact frames with VALIDATION_FAILED and carries on serving', async () => {
    const sender = await connect(gateway, device(world, 'KZ-KORDAI/desk-1'), {
      auth: await compactAuth(world, 'KZ-KORDAI/desk-1'),
    });
    const plain = await connect(gateway, device(world, 'KZ-KORDAI/duty-1'));
    try {
      const envelope = await seal(
        world,
        device(world, 'KZ-KORDAI/desk-1'),
        ['KG-AKZHOL'],
        chat('y'),
      );
      const bytes = encodeCompactEnvelope(envelope);
      const refusal = async (socket: typeof sender, payload: unknown) =>
        (
          (await request(socket, 'envelope:send', payload)) as {
            error?: { code: string; message: string };
          }
        ).error;
      const cases: [string, Uint8Array][] = [
        ['empty', new Uint8Array(0)],
        ['cut', bytes.subarray(0, bytes.length - 1)],
        ['longer', new Uint8Array([...bytes, 0])],
        ['kind out of range', new Uint8Array([4, 7, ...bytes.subarray(2)])],
      ];
      for (const [, payload] of cases) {
        const error = await refusal(sender, payload);
        expect(error?.code).toBe('VALIDATION_FAILED');
        expect(error?.message).toMatch(/^not a compact envelope: /);
      }
      expect((await refusal(sender, new Uint8Array(70_000).fill(4)))?.code).toBe(
        'PAYLOAD_TOO_LARGE',
      );
      // Another header version, as for a JSON envelope.
      const v5 = await refusal(sender, new Uint8Array([5, ...bytes.subarray(1)]));
      expect(v5).toMatchObject({ code: 'UNSUPPORTED_VERSION', details: { supported: [4] } });
      // Compact on a connection that did not ask for it.
      expect((await refusal(plain, bytes))?.code).toBe('VALIDATION_FAILED');
      // Shaped right, valued wrong: refused like the same JSON envelope would be.
      const wrongId = encodeCompactEnvelope({
        ...envelope,
        header: {
          ...envelope.header,
          sender: { ...envelope.header.sender, deviceId: 'KZ-A/Desk' },
        },
      });
      expect((await refusal(sender, wrongId))?.code).toBe('ENVELOPE_INVALID');
      // The same connection still works, and so does the gateway.
      expect(await request(sender, 'envelope:send', bytes)).toMatchObject({ ok: true });
      await expectCanaryServed(gateway, world, 'KZ-KORDAI/duty-1', 'KG-AKZHOL/duty-1');
    } finally {
      sender.close();
      plain.close();
    }
  });

  it('on the wire: confirmed first, then each push is one small text frame and the raw compact bytes', async () => {
    // A Socket.IO client by hand, to see the WebSocket frames themselves.
    const raw = await openRawSocket(gateway.url, await compactAuth(world, 'KG-AKZHOL/desk-1'));
    const json = await openRawSocket(gateway.url, {
      token: await createClientToken(device(world, 'KG-AKZHOL/duty-1'), { audience: AUDIENCE }),
    });
    const sender = await connect(gateway, device(world, 'KZ-KORDAI/desk-1'));
    const frames: { binary: boolean; data: Buffer }[] = [];
    const jsonFrames: string[] = [];
    const arrived = new Promise<void>((done) => {
      raw.ws.on('message', (data: RawData, binary: boolean) => {
        frames.push({ binary, data: data as Buffer });
        if (binary) done();
      });
    });
    const jsonArrived = new Promise<void>((done) => {
      json.ws.on('message', (data: RawData) => {
        const text = data.toString();
        jsonFrames.push(text);
        if (text.startsWith('42["envelope",')) done();
      });
    });
    try {
      // The confirmation came right after the namespace was joined, before anything else.
      const joined = raw.frames.findIndex((f) => f.startsWith('40'));
      const confirmed = await new Promise<string>((resolve) => {
        const found = raw.frames.slice(joined + 1).find((f) => f.startsWith('42'));
        if (found) resolve(found);
        else raw.ws.once('message', (data: RawData) => resolve(data.toString()));
      });
      expect(confirmed).toBe('42["session:encoding",{"encoding":"compact"}]');
      expect(json.frames.some((f) => f.includes('session:encoding'))).toBe(false);

      const envelope: Envelope = await seal(
        world,
        device(world, 'KZ-KORDAI/desk-1'),
        ['KG-AKZHOL'],
        chat('z'.repeat(1024)),
      );
      expect(await request(sender, 'envelope:send', envelope)).toMatchObject({ ok: true });
      await Promise.all([arrived, jsonArrived]);

      const bin = frames.findIndex((f) => f.binary);
      const text = (frames[bin - 1] as { data: Buffer }).data.toString();
      // A binary event with one attachment: the delivery's fields, a placeholder for the bytes.
      expect(text).toMatch(
        /^451-\["envelope",\{"offset":\d+,"acceptedAt":\d+,"envelope":\{"_placeholder":true,"num":0\}\}\]$/,
      );
      const attachment = (frames[bin] as { data: Buffer }).data;
      expect(new Uint8Array(attachment)).toEqual(encodeCompactEnvelope(envelope));
      // The ciphertext travels raw, once: no base64url anywhere in the compact frames.
      const ciphertext = Buffer.from(envelope.ciphertext, 'base64url');
      expect(attachment.subarray(attachment.length - ciphertext.length).equals(ciphertext)).toBe(
        true,
      );
      expect(text.includes(envelope.ciphertext.slice(0, 16))).toBe(false);
      // The JSON connection got the same delivery as one text frame with base64url.
      const jsonPush = jsonFrames.find((f) => f.startsWith('42["envelope",')) as string;
      expect(jsonPush).toContain(envelope.ciphertext);
      const compactBytes = Buffer.byteLength(text) + attachment.length;
      const jsonBytes = Buffer.byteLength(jsonPush);
      // base64url spends 4 characters on 3 bytes: the compact push saves at least a quarter.
      expect(compactBytes).toBeLessThan(jsonBytes * 0.75);
    } finally {
      raw.close();
      json.close();
      sender.close();
    }
  });
});
