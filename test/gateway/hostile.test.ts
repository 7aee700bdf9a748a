import fc from 'fast-check';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../protocol/errors.js';
import { EscalationEvent, PresenceEvent, StatusEvent } from '../../protocol/v1/events.js';
import { createClientToken } from '../../src/crypto/token.js';
import type { Engine } from '../../src/engine/engine.js';
import { channels } from '../../src/engine/keyspace.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import { disposeEngine, ENGINES } from '../fixtures/engines.js';
import {
  AUDIENCE,
  collect,
  connect,
  expectCanaryServed,
  nextMatching,
  request,
  startTestGateway,
} from '../fixtures/gateway.js';
import { metric } from '../fixtures/metrics.js';
import { openRawSocket } from '../fixtures/raw-socket.js';
import { buildWorld, device, type World } from '../fixtures/world.js';

// Every Socket.IO event and HTTP route against what an attacker sends first: wrong types, huge
// and deep values, __proto__ keys, binary attachments, raw and broken frames, invalid UTF-8, sizes
// at and beyond the limits. Each answer must carry a documented code (never INTERNAL), the
// gateway must not crash, a canary pair must still be served afterwards, and the memory of the
// process the gateway runs in must not grow by more than MEMORY_GROWTH_BOUND over the suite.

/** Generous: what the hostile inputs leave behind (the test's own values included) stays under. */
const MEMORY_GROWTH_BOUND = 200 * 1024 * 1024;
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

const redis = ENGINES.find((e) => e.name === 'redis');
if (!redis) throw new Error('no redis engine');

const EVENTS = ['envelope:send', 'inbox:fetch', 'inbox:ack', 'token:refresh', 'no:such-event'];

/** Nested `depth` levels: arrays or objects, as an attacker builds them. */
const nested = (depth: number, inArray: boolean): unknown => {
  let value: unknown = 'bottom';
  for (let i = 0; i < depth; i++) value = inArray ? [value] : { a: value };
  return value;
};

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.anything({ withNullPrototype: true, withObjectString: true, maxDepth: 4 }),
  fc.constantFrom(
    JSON.parse('{"__proto__":{"polluted":true},"after":0,"limit":1}'),
    JSON.parse('{"constructor":{"prototype":{"polluted":true}}}'),
    { after: -1, limit: 1 },
    { after: 0, limit: 501 },
    { after: Number.MAX_SAFE_INTEGER + 2, limit: 1 },
    { upTo: 1.5 },
    { token: 'x'.repeat(4097) },
    { header: { v: 99 } },
    'x'.repeat(70 * 1024),
    Buffer.from([0xff, 0xfe, 0x00, 0xc3]),
    { payload: Buffer.alloc(1024, 0xff) },
  ),
  fc.integer({ min: 20, max: 2_000 }).chain((d) => fc.boolean().map((a) => nested(d, a))),
  fc.string({ unit: 'binary', maxLength: 200 }),
);

interface Answer {
  ok: boolean;
  error?: { code: string };
}

describe('hostile input', () => {
  let world: World;
  let engine: Engine;
  let gateway: Gateway;
  const sockets: Socket[] = [];
  /** The RSS of this process (the gateway runs in it) once the gateway is up. */
  let rssAtStart: number;

  /** A canary pair is still served, and memory grew by less than the bound since the start. */
  const canaryServed = async () => {
    await expectCanaryServed(gateway, world, 'KZ-KORDAI/desk-1', 'KG-AKZHOL/desk-1');
    const rss = process.memoryUsage().rss;
    expect(
      rss - rssAtStart,
      `RSS ${mib(rssAtStart)} at start, ${mib(rss)} now: growth under ${mib(MEMORY_GROWTH_BOUND)}`,
    ).toBeLessThan(MEMORY_GROWTH_BOUND);
  };

  beforeAll(async () => {
    world = await buildWorld(Date.now());
    engine = redis.make();
    gateway = await startTestGateway(engine, world, { directoryPostsPerMinute: 10_000 });
    rssAtStart = process.memoryUsage().rss;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await gateway.close();
    await disposeEngine(engine);
  });

  it('every event answers any payload with a documented code, never INTERNAL, and stays up', {
    timeout: 60_000,
  }, async () => {
    const attacker = await connect(gateway, device(world, 'KZ-KORDAI/duty-1'));
    sockets.push(attacker);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...EVENTS), hostileValue, async (event, payload) => {
        const answer = await request<Answer>(attacker, event, payload);
        if (!answer.ok) {
          expect(ERROR_CODES).toContain(answer.error?.code);
          expect(answer.error?.code).not.toBe('INTERNAL');
        }
        expect(attacker.connected).toBe(true);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      { numRuns: 300 },
    );
    attacker.close();
    await canaryServed();
  });

  it('every HTTP route answers any body or query with a documented code, never a 5xx', {
    timeout: 60_000,
  }, async () => {
    const routes = ['/v1/directory/statements', '/v1/directory/head'];
    const body = fc.oneof(
      hostileValue.map((v) => ({ type: 'application/json', text: JSON.stringify(v) ?? 'null' })),
      fc.string({ maxLength: 300 }).map((text) => ({ type: 'application/json', text })),
      fc.string({ maxLength: 100 }).map((text) => ({
        type: 'application/x-www-form-urlencoded',
        text,
      })),
      fc.constantFrom(
        { type: 'text/plain', text: 'hello' },
        { type: 'application/json', text: '' },
        { type: 'application/json', text: '['.repeat(100_000) },
        {
          type: 'application/json',
          text: `{"statements":[${'{"payload":"A","signature":"B"},'.repeat(99)}1]}`,
        },
      ),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), body, async (route, { type, text }) => {
        const response = await fetch(`${gateway.url}${route}`, {
          method: 'POST',
          headers: { 'content-type': type },
          body: text,
        });
        expect(response.status).toBeLessThan(500);
        if (response.status >= 400) {
          const answer = (await response.json()) as { error: { code: string } };
          expect(ERROR_CODES).toContain(answer.error.code);
        } else {
          await response.text();
        }
      }),
      { numRuns: 150 },
    );
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 50 }), async (after) => {
        const response = await fetch(
          `${gateway.url}/v1/directory?after=${encodeURIComponent(after)}&x=${encodeURIComponent(after)}`,
        );
        expect(response.status).toBeLessThan(500);
        await response.arrayBuffer();
      }),
      { numRuns: 50 },
    );
    await canaryServed();
  });

  it('raw and broken frames, invalid UTF-8 and frames beyond the limit cost at most that connection', {
    timeout: 60_000,
  }, async () => {
    const token = () =>
      createClientToken(device(world, 'KZ-KORDAI/duty-1'), { audience: AUDIENCE });
    const frames: (string | Buffer)[] = [
      '42["inbox:fetch"',
      '4',
      '99999',
      '42[1,2,3]',
      '451-["inbox:fetch",{"_placeholder":true,"num":7}]',
      `42["inbox:fetch",${'['.repeat(10_000)}]`,
      Buffer.from([0xc3, 0x28, 0xff]),
      `42["envelope:send","${'x'.repeat(1024 * 1024 + 10)}"]`,
    ];
    for (const frame of frames) {
      const raw = await openRawSocket(gateway.url, { token: await token() });
      raw.send(frame);
      // Answered, ignored or cut: any of these is fine; the gateway must serve what follows.
      await Promise.race([raw.closed, new Promise((done) => setTimeout(done, 300))]);
      raw.close();
    }
    // 300,000 levels deep (what overflowed the stack before): a validation code, not INTERNAL.
    const raw = await openRawSocket(gateway.url, { token: await token() });
    const depth = 300_000;
    raw.send(`421["envelope:send",${'['.repeat(depth)}${']'.repeat(depth)}]`);
    for (let i = 0; i < 100 && !raw.frames.some((f) => f.startsWith('431')); i++) {
      await new Promise((done) => setTimeout(done, 50));
    }
    const ack = raw.frames.find((f) => f.startsWith('431')) ?? '431[{}]';
    expect(JSON.parse(ack.slice(3))[0].error.code).toBe('VALIDATION_FAILED');
    raw.close();
    await canaryServed();
  });
  it('garbage a Redis writer publishes on device and office channels costs at most those connections', {
    timeout: 60_000,
  }, async () => {
    // The pushes a gateway relays come from Redis: whoever can write there can publish anything
    // on a channel. The gateway must neither crash nor stop serving nor pass on an event that is
    // not one; the worst is a reconnect of the device whose channel it was.
    const victim = await connect(gateway, device(world, 'KG-AKZHOL/duty-1'));
    sockets.push(victim);
    const events = { status: StatusEvent, presence: PresenceEvent, escalated: EscalationEvent };
    const got = {
      status: collect(victim, 'envelope:status'),
      presence: collect(victim, 'presence'),
      escalated: collect(victim, 'alert:escalated'),
    };
    const garbage = [
      'not json',
      'null',
      '[]',
      '{"type":"status","ids":5}',
      '{"type":"status","ids":[{"a":1}],"deviceId":"KZ-KORDAI/desk-1","at":1}',
      `{"type":"status","ids":["${'0'.repeat(36)}"],"deviceId":{},"at":1}`,
      '{"type":"escalation"}',
      '{"type":"escalation","alertId":"x","precedence":"FLASH","to":"KZ-KORDAI"}',
      '{"type":"presence","officeId":{}}',
      '{"type":"presence","officeId":"KZ-KORDAI","online":"yes","at":1}',
    ];
    const channelsOfVictim = [channels.device('KG-AKZHOL/duty-1'), channels.office('KG-AKZHOL')];
    for (const text of garbage)
      for (const channel of channelsOfVictim) await engine.pubsub.publish(channel, text);
    // A valid event after the garbage: once it arrives, the gateway has read everything before it.
    const marker = nextMatching<{ at: number }>(victim, 'presence', (p) => p.at === 42);
    await engine.pubsub.publish(
      channels.office('KG-AKZHOL'),
      '{"type":"presence","officeId":"KZ-KORDAI","online":true,"at":42}',
    );
    await marker;
    // Each garbage message was dropped and counted once per channel (one connection follows both).
    expect(await metric(gateway, 'liaison_channel_messages_dropped_total')).toBe(
      garbage.length * channelsOfVictim.length,
    );
    for (const [name, schema] of Object.entries(events)) {
      for (const event of got[name as keyof typeof got])
        expect(schema.safeParse(event).success, `${name} ${JSON.stringify(event)}`).toBe(true);
    }
    // Pushes of envelopes go out as they came (channel-messages.ts). Text spelled as a push can
    // add arguments but not name another event (the packet's event is written by the gateway),
    // and garbage costs this connection a parse error and a reconnect, nothing more.
    const closing = collect(victim, 'session:closing');
    const forged = nextMatching<{ offset: number }>(victim, 'envelope', (e) => e.offset === 7);
    await engine.pubsub.publish(
      channels.device('KG-AKZHOL/duty-1'),
      '{"type":"envelope","offset":7},"session:closing",{"code":"SERVER_SHUTDOWN"}',
    );
    expect(await forged).toEqual({ offset: 7 });
    const cut = new Promise<string>((resolve) => victim.once('disconnect', resolve));
    await engine.pubsub.publish(channels.device('KG-AKZHOL/duty-1'), '{"type":"envelope",');
    expect(await cut).toBe('parse error');
    expect(closing).toEqual([]);
    // A compact connection gets pushes parsed and re-spelled: what is no envelope is dropped.
    const compact = await connect(gateway, device(world, 'KG-AKZHOL/desk-1'), {
      auth: {
        token: await createClientToken(device(world, 'KG-AKZHOL/desk-1'), { audience: AUDIENCE }),
        encoding: 'compact',
      },
    });
    sockets.push(compact);
    const before = await metric(gateway, 'liaison_channel_messages_dropped_total');
    const compactMarker = nextMatching<{ at: number }>(compact, 'presence', (p) => p.at === 43);
    await engine.pubsub.publish(
      channels.device('KG-AKZHOL/desk-1'),
      '{"type":"envelope","offset":8,"acceptedAt":1,"envelope":{"not":"an envelope"}}',
    );
    await engine.pubsub.publish(
      channels.office('KG-AKZHOL'),
      '{"type":"presence","officeId":"KZ-KORDAI","online":true,"at":43}',
    );
    await compactMarker;
    expect(await metric(gateway, 'liaison_channel_messages_dropped_total')).toBe(before + 1);
    compact.close();
    await expectCanaryServed(gateway, world, 'KZ-KORDAI/desk-1', 'KG-AKZHOL/duty-1');
    await canaryServed();
  });
});
