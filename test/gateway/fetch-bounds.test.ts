import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import { disposeEngine, ENGINES } from '../fixtures/engines.js';
import {
  chat,
  connect,
  expectCanaryServed,
  request,
  seal,
  startTestGateway,
} from '../fixtures/gateway.js';
import { buildWorld, device, type World } from '../fixtures/world.js';

const redis = ENGINES.find((e) => e.name === 'redis');
if (!redis) throw new Error('no redis engine');

interface Answer {
  ok: boolean;
  items?: unknown[];
  error?: { code: string; details?: Record<string, unknown> };
}

describe('inbox:fetch from one socket is bounded', () => {
  let world: World;
  let engine: Engine;
  let gateway: Gateway;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    world = await buildWorld(Date.now());
    engine = redis.make();
    gateway = await startTestGateway(engine, world);
  });
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await gateway.close();
    await disposeEngine(engine);
  });

  it('one fetch at a time: the rest are refused with RATE_LIMITED, and the canary pair is served', async () => {
    const sender = await connect(gateway, device(world, 'KZ-KORDAI/desk-1'));
    const flooder = await connect(gateway, device(world, 'KG-AKZHOL/desk-1'));
    sockets.push(sender, flooder);
    for (let i = 0; i < 20; i++) {
      const envelope = await seal(
        world,
        device(world, 'KZ-KORDAI/desk-1'),
        ['KG-AKZHOL'],
        chat('x'.repeat(8000)),
      );
      expect(await request(sender, 'envelope:send', envelope)).toMatchObject({ ok: true });
    }
    const answers = await Promise.all(
      Array.from({ length: 50 }, () =>
        request<Answer>(flooder, 'inbox:fetch', { after: 0, limit: 500 }),
      ),
    );
    const served = answers.filter((a) => a.ok);
    const refused = answers.filter((a) => !a.ok);
    expect(served.length).toBeGreaterThanOrEqual(1);
    expect(served.length + refused.length).toBe(50);
    expect(refused.length).toBeGreaterThan(0);
    for (const a of refused) {
      expect(a.error?.code).toBe('RATE_LIMITED');
      expect(a.error?.details).toEqual({ fetchesInFlight: 1 });
    }
    for (const a of served) expect(a.items).toHaveLength(20);

    // Once answered, the next fetch is served again; the canary pair never stopped.
    expect(await request<Answer>(flooder, 'inbox:fetch', { after: 0, limit: 1 })).toMatchObject({
      ok: true,
    });
    await expectCanaryServed(gateway, world, 'KG-AKZHOL/duty-1', 'KZ-KORDAI/duty-1');
  });
});
