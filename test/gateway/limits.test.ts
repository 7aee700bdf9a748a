import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import { disposeEngine, ENGINES } from '../fixtures/engines.js';
import { chat, connect, next, request, seal, startTestGateway } from '../fixtures/gateway.js';
import { buildWorld, device, type World } from '../fixtures/world.js';

describe.each(ENGINES)('limits and shutdown on the $name engine', ({ make }) => {
  let world: World;
  let engine: Engine;
  let gateway: Gateway;
  let socket: Socket;

  beforeAll(async () => {
    world = await buildWorld(Date.now());
    engine = make();
    gateway = await startTestGateway(engine, world, { rateLimitPerMinute: 3 });
    socket = await connect(gateway, device(world, 'KZ-KORDAI/desk-1'));
  });
  afterAll(async () => {
    socket.close();
    await gateway.close();
    await disposeEngine(engine);
  });

  it('an office pair over its rate is told to slow down, and nothing over it is stored', async () => {
    const sender = device(world, 'KZ-KORDAI/desk-1');
    const codes: string[] = [];
    for (let i = 0; i < 5; i++) {
      const envelope = await seal(world, sender, ['KG-AKZHOL'], chat(`burst ${i}`));
      const ack = await request<{ ok: boolean; error?: { code: string } }>(
        socket,
        'envelope:send',
        envelope,
      );
      codes.push(ack.ok ? 'OK' : (ack.error?.code ?? '?'));
    }
    expect(codes).toEqual(['OK', 'OK', 'OK', 'RATE_LIMITED', 'RATE_LIMITED']);
    const inbox = await engine.inboxes.fetch('KG-AKZHOL/desk-1', 0, 100);
    expect(inbox.items).toHaveLength(3);
  });

  it('a resend of an accepted envelope gets its first ack even when the pair is over its rate', async () => {
    const sender = device(world, 'KZ-KORDAI/desk-1');
    const envelope = await seal(world, sender, ['KG-AKZHOL'], chat('over the rate'));
    const over = await request<{ ok: boolean; error?: { code: string } }>(
      socket,
      'envelope:send',
      envelope,
    );
    expect(over.error?.code).toBe('RATE_LIMITED');
    const accepted = (await engine.inboxes.fetch('KG-AKZHOL/desk-1', 0, 100)).items[0];
    const first = JSON.parse(accepted?.envelope ?? '{}');
    const resend = await request<{ ok: boolean; duplicate: boolean; seq: number }>(
      socket,
      'envelope:send',
      first,
    );
    expect(resend).toMatchObject({ ok: true, duplicate: true, id: first.header.id });
  });

  it('on shutdown, connected devices are told to reconnect later and the gateway stops taking new ones', async () => {
    const closing = next<{ code: string; reconnectAfterMs: number }>(socket, 'session:closing');
    const closed = gateway.close();
    const event = await closing;
    expect(event.code).toBe('SERVER_SHUTDOWN');
    expect(event.reconnectAfterMs).toBeGreaterThan(0);
    await closed;
    await expect(connect(gateway, device(world, 'KG-AKZHOL/desk-1'))).rejects.toBeDefined();
  });
});
