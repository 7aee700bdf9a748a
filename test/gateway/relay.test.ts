import type { Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MAX_SESSIONS_PER_DEVICE } from '../../protocol/v1/events.js';
import type { Engine } from '../../src/engine/engine.js';
import { openEnvelope } from '../../src/envelope/open.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import { disposeEngine, ENGINES } from '../fixtures/engines.js';
import {
  chat,
  collect,
  connect,
  next,
  nextMatching,
  request,
  seal,
  startTestGateway,
} from '../fixtures/gateway.js';
import { buildWorld, device, type World } from '../fixtures/world.js';

describe.each(ENGINES)('relay on the $name engine', ({ make }) => {
  let world: World;
  let engine: Engine;
  let gateway: Gateway;
  const sockets: Socket[] = [];
  const open = async (deviceId: string) => {
    const socket = await connect(gateway, device(world, deviceId));
    sockets.push(socket);
    return socket;
  };

  beforeAll(async () => {
    world = await buildWorld(Date.now());
    engine = make();
    gateway = await startTestGateway(engine, world);
  });
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.close();
  });
  afterAll(async () => {
    await gateway.close();
    await disposeEngine(engine);
  });

  it('a chat reaches both devices of the linked office at once, and they can read it', async () => {
    const kordai = await open('KZ-KORDAI/desk-1');
    const desk = await open('KG-AKZHOL/desk-1');
    const duty = await open('KG-AKZHOL/duty-1');
    const arrivals = [next(desk, 'envelope'), next(duty, 'envelope')];
    const envelope = await seal(
      world,
      device(world, 'KZ-KORDAI/desk-1'),
      ['KG-AKZHOL'],
      chat('Convoy at 10:40'),
    );
    const ack = await request(kordai, 'envelope:send', envelope);
    expect(ack).toMatchObject({ ok: true, id: envelope.header.id, duplicate: false });
    for (const [i, arrival] of (await Promise.all(arrivals)).entries()) {
      const reader = device(world, i === 0 ? 'KG-AKZHOL/desk-1' : 'KG-AKZHOL/duty-1');
      const opened = await openEnvelope(arrival.envelope, reader, world.directory);
      expect(opened.body).toEqual({ type: 'chat', text: 'Convoy at 10:40' });
      expect(arrival.offset).toBeGreaterThan(0);
    }
  });

  it('an offline device gets everything it missed on reconnect, in order, once; the sender learns it was delivered', async () => {
    const sender = await open('KG-AKZHOL/duty-1');
    const statuses = collect(sender, 'envelope:status');
    const before = await (async () => {
      const s = await open('KZ-KORDAI/duty-1');
      const page = await request<{ items: { offset: number }[] }>(s, 'inbox:fetch', {
        after: 0,
        limit: 500,
      });
      const last = page.items.at(-1)?.offset ?? 0;
      await request(s, 'inbox:ack', { upTo: last });
      s.close();
      return last;
    })();
    const ids: string[] = [];
    for (const text of ['one', 'two', 'three']) {
      const envelope = await seal(
        world,
        device(world, 'KG-AKZHOL/duty-1'),
        ['KZ-KORDAI'],
        chat(text),
      );
      ids.push(envelope.header.id);
      expect(await request(sender, 'envelope:send', envelope)).toMatchObject({ ok: true });
    }
    const back = await open('KZ-KORDAI/duty-1');
    const page = await request<{
      ok: boolean;
      items: { offset: number; envelope: { header: { id: string } } }[];
      gap: null;
    }>(back, 'inbox:fetch', { after: before, limit: 100 });
    expect(page.items.map((i) => i.envelope.header.id)).toEqual(ids);
    expect(page.gap).toBeNull();
    const texts = [];
    for (const item of page.items) {
      texts.push(
        (await openEnvelope(item.envelope, device(world, 'KZ-KORDAI/duty-1'), world.directory))
          .body,
      );
    }
    expect(texts.map((b) => (b.type === 'chat' ? b.text : ''))).toEqual(['one', 'two', 'three']);
    const upTo = page.items.at(-1)?.offset as number;
    expect(await request(back, 'inbox:ack', { upTo })).toEqual({ ok: true, upTo });
    await expect
      .poll(() =>
        statuses.filter((s) => ids.includes(s.id as string) && s.deviceId === 'KZ-KORDAI/duty-1'),
      )
      .toHaveLength(3);
    const again = await request<{ items: unknown[] }>(back, 'inbox:fetch', {
      after: 0,
      limit: 100,
    });
    expect(again.items).toEqual([]);
  });

  it('sending the same envelope twice stores it once and returns the first ack', async () => {
    const kordai = await open('KZ-KORDAI/desk-1');
    const envelope = await seal(
      world,
      device(world, 'KZ-KORDAI/desk-1'),
      ['KG-AKZHOL'],
      chat('twice'),
    );
    const first = await request(kordai, 'envelope:send', envelope);
    const second = await request(kordai, 'envelope:send', envelope);
    expect(second).toEqual({ ...first, duplicate: true });
    const akzhol = await open('KG-AKZHOL/desk-1');
    const page = await request<{ items: { envelope: { header: { id: string } } }[] }>(
      akzhol,
      'inbox:fetch',
      { after: 0, limit: 500 },
    );
    expect(page.items.filter((i) => i.envelope.header.id === envelope.header.id)).toHaveLength(1);
  });

  it('refuses a forged sender, an unlinked office, a missing hub and a missing device, and carries on', async () => {
    const kordai = await open('KZ-KORDAI/desk-1');
    const refusal = async (envelope: unknown) =>
      ((await request(kordai, 'envelope:send', envelope)) as { error: { code: string } }).error
        .code;

    const forged = await seal(
      world,
      device(world, 'KZ-KORDAI/duty-1'),
      ['KG-AKZHOL'],
      chat('not me'),
    );
    expect(await refusal(forged)).toBe('SENDER_MISMATCH');

    const desk = device(world, 'KZ-KORDAI/desk-1');
    const unlinked = await seal(world, desk, ['UZ-OYBEK'], chat('hello Oybek'));
    expect(await refusal(unlinked)).toBe('NOT_LINKED');

    const all = world.directory.recipientKeys(['KG-AKZHOL'], Date.now());
    const { sealEnvelope } = await import('../../src/envelope/seal.js');
    const noHub = await sealEnvelope({
      sender: desk,
      to: ['KG-AKZHOL'],
      body: chat('x'),
      recipients: all.filter((k) => k.deviceId !== 'CARICC/hub'),
      counter: 1,
      directory: world.directory.head,
    });
    expect(await refusal(noHub)).toBe('HUB_NOT_RECIPIENT');
    const noDuty = await sealEnvelope({
      sender: desk,
      to: ['KG-AKZHOL'],
      body: chat('x'),
      recipients: all.filter((k) => k.deviceId !== 'KG-AKZHOL/duty-1'),
      counter: 1,
      directory: world.directory.head,
    });
    const ack = (await request(kordai, 'envelope:send', noDuty)) as {
      error: { code: string; details: unknown };
    };
    expect(ack.error).toMatchObject({
      code: 'RECIPIENTS_MISMATCH',
      details: { missing: ['KG-AKZHOL/duty-1'] },
    });

    const fine = await seal(world, desk, ['KG-AKZHOL'], chat('still here'));
    expect(await request(kordai, 'envelope:send', fine)).toMatchObject({ ok: true });
  });

  it('answers malformed and oversized events with a code while the connection carries on', async () => {
    const kordai = await open('KZ-KORDAI/desk-1');
    const code = async (event: string, payload: unknown) =>
      ((await request(kordai, event, payload)) as { error: { code: string } }).error.code;
    expect(await code('envelope:send', { hello: 'world' })).toBe('ENVELOPE_INVALID');
    expect(await code('envelope:send', null)).toBe('ENVELOPE_INVALID');
    expect(await code('envelope:send', 'text')).toBe('ENVELOPE_INVALID');
    const envelope = await seal(
      world,
      device(world, 'KZ-KORDAI/desk-1'),
      ['KG-AKZHOL'],
      chat('big'),
    );
    expect(await code('envelope:send', { ...envelope, ciphertext: 'A'.repeat(90_000) })).toBe(
      'PAYLOAD_TOO_LARGE',
    );
    expect(await code('envelope:send', { ...envelope, header: { ...envelope.header, v: 5 } })).toBe(
      'UNSUPPORTED_VERSION',
    );
    expect(await code('inbox:fetch', { after: -1 })).toBe('VALIDATION_FAILED');
    expect(await code('inbox:fetch', { after: 0, limit: 100_000 })).toBe('VALIDATION_FAILED');
    expect(await code('inbox:ack', { upTo: 'all' })).toBe('VALIDATION_FAILED');
    expect(await code('token:refresh', {})).toBe('VALIDATION_FAILED');
    expect(await code('token:refresh', { token: 'nonsense' })).toBe('TOKEN_INVALID');
    expect(await code('no:such-event', {})).toBe('VALIDATION_FAILED');
    expect(kordai.connected).toBe(true);
    expect(await request(kordai, 'envelope:send', envelope)).toMatchObject({ ok: true });
  });

  it('sessions of one device live side by side: each gets the push, a second ack is harmless, one past the limit replaces the oldest', async () => {
    const first = await open('KG-AKZHOL/desk-1');
    const second = await open('KG-AKZHOL/desk-1');
    const kordai = await open('KZ-KORDAI/desk-1');
    const arrivals = [
      next<{ offset: number }>(first, 'envelope'),
      next<{ offset: number }>(second, 'envelope'),
    ];
    const envelope = await seal(
      world,
      device(world, 'KZ-KORDAI/desk-1'),
      ['KG-AKZHOL'],
      chat('both'),
    );
    expect(await request(kordai, 'envelope:send', envelope)).toMatchObject({ ok: true });
    const [a, b] = await Promise.all(arrivals);
    expect(a?.offset).toBe(b?.offset);
    const delivered = nextMatching<{ id: string }>(
      kordai,
      'envelope:status',
      (s) => s.id === envelope.header.id,
    );
    expect(await request(first, 'inbox:ack', { upTo: a?.offset })).toMatchObject({ ok: true });
    expect((await delivered).id).toBe(envelope.header.id);
    expect(await request(second, 'inbox:ack', { upTo: a?.offset })).toMatchObject({ ok: true });
    const page = await request<{ items: unknown[] }>(second, 'inbox:fetch', {
      after: 0,
      limit: 500,
    });
    expect(JSON.stringify(page.items)).not.toContain(envelope.header.id);
    expect(first.connected && second.connected).toBe(true);

    const closing = next<{ code: string }>(first, 'session:closing');
    const gone = next(first, 'disconnect');
    for (let i = 2; i <= MAX_SESSIONS_PER_DEVICE; i++) await open('KG-AKZHOL/desk-1');
    expect(first.connected).toBe(true);
    await open('KG-AKZHOL/desk-1');
    expect(await closing).toEqual({ code: 'SESSION_REPLACED' });
    await gone;
    expect(second.connected).toBe(true);
  });

  it('an office sees its linked office come online and go offline', async () => {
    const kordai = await open('KZ-KORDAI/desk-1');
    type Presence = { officeId: string; online: boolean };
    const online = nextMatching<Presence>(kordai, 'presence', (p) => p.online);
    const akzhol = await open('KG-AKZHOL/duty-1');
    expect(await online).toMatchObject({ officeId: 'KG-AKZHOL', online: true });
    const offline = nextMatching<Presence>(kordai, 'presence', (p) => !p.online);
    akzhol.close();
    expect(await offline).toMatchObject({ officeId: 'KG-AKZHOL', online: false });
  });

  it('devices that leave while their connection is being set up leave no presence behind', async () => {
    for (let i = 0; i < 5; i++) {
      const socket = await connect(gateway, device(world, 'UZ-OYBEK/desk-1'));
      socket.close();
    }
    await expect
      .poll(() => engine.presence.dropPresence('UZ-OYBEK', ''), { timeout: 3_000 })
      .toBe(0);
  });
});
