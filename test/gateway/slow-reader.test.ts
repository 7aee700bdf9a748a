import { setTimeout as sleep } from 'node:timers/promises';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClientToken } from '../../src/crypto/token.js';
import type { Engine } from '../../src/engine/engine.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import { disposeEngine, ENGINES } from '../fixtures/engines.js';
import {
  AUDIENCE,
  chat,
  connect,
  expectCanaryServed,
  request,
  seal,
  startTestGateway,
} from '../fixtures/gateway.js';
import { metric } from '../fixtures/metrics.js';
import { openRawSocket, type RawSocket } from '../fixtures/raw-socket.js';
import { buildWorld, device, type World } from '../fixtures/world.js';

/** Smaller than the default (8 MiB), so the test sends less; the mechanism is the same. */
const BOUND = 2 * 1024 * 1024;
const redis = ENGINES.find((e) => e.name === 'redis');
if (!redis) throw new Error('no redis engine');

describe('a reader that stops reading', () => {
  let world: World;
  let engine: Engine;
  let gateway: Gateway;
  const sockets: Socket[] = [];
  let slow: RawSocket | undefined;

  beforeAll(async () => {
    world = await buildWorld(Date.now());
    engine = redis.make();
    gateway = await startTestGateway(engine, world, {
      rateLimitPerMinute: 100_000,
      maxOutboundBytes: BOUND,
    });
  });
  afterAll(async () => {
    slow?.close();
    for (const socket of sockets) socket.close();
    await gateway.close();
    await disposeEngine(engine);
  });

  it('is cut off once its buffer passes the bound, the canary pair is still served, and it resumes from its inbox', {
    timeout: 120_000,
  }, async () => {
    const reader = device(world, 'KG-AKZHOL/desk-1');
    slow = await openRawSocket(gateway.url, {
      token: await createClientToken(reader, { audience: AUDIENCE }),
    });
    slow.stopReading();
    const sender = await connect(gateway, device(world, 'KZ-KORDAI/desk-1'));
    sockets.push(sender);

    // The largest chats until the gateway cuts the reader; a bounded number so a failure cannot hang.
    const text = 'x'.repeat(8000);
    let sent = 0;
    let cut = 0;
    while (cut === 0 && sent < 5_000) {
      const batch = await Promise.all(
        Array.from({ length: 20 }, () =>
          seal(world, device(world, 'KZ-KORDAI/desk-1'), ['KG-AKZHOL'], chat(text)),
        ),
      );
      const acks = await Promise.all(
        batch.map((envelope) => request<{ ok: boolean }>(sender, 'envelope:send', envelope)),
      );
      expect(acks.every((ack) => ack.ok)).toBe(true);
      sent += batch.length;
      cut = await metric(gateway, 'liaison_slow_consumers_cut_total');
    }
    cut = await metric(gateway, 'liaison_slow_consumers_cut_total');
    expect(cut).toBe(1);
    // Gone from the gateway (its own end never reads the close: it stopped reading).
    for (let i = 0; i < 100 && (await metric(gateway, 'liaison_connections')) !== 1; i++) {
      await sleep(100);
    }
    expect(await metric(gateway, 'liaison_connections')).toBe(1);
    // What the gateway held for it never went past the bound by more than one push.
    const peak = await metric(gateway, 'liaison_outbound_buffered_bytes_peak');
    expect(peak).toBeGreaterThan(BOUND / 2);
    expect(peak).toBeLessThan(BOUND + 2 * 64 * 1024);

    // The canary pair is still served, live.
    await expectCanaryServed(gateway, world, 'KG-AKZHOL/duty-1', 'KZ-KORDAI/duty-1');

    // The reader comes back and finds everything in its inbox, in order.
    const back = await connect(gateway, reader);
    sockets.push(back);
    let after = 0;
    let fetched = 0;
    for (;;) {
      const page = await request<{ ok: boolean; items: { offset: number }[]; more: boolean }>(
        back,
        'inbox:fetch',
        { after, limit: 100 },
      );
      expect(page.ok).toBe(true);
      fetched += page.items.length;
      after = page.items.at(-1)?.offset ?? after;
      if (!page.more) break;
    }
    expect(fetched).toBe(sent);
  });
});
