import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeedEscalation, FeedSubscribeAck, RecordEntry } from '../../protocol/v1/analyst.js';
import { EscalationEvent } from '../../protocol/v1/events.js';
import type { Body } from '../../protocol/v1/payload.js';
import { createClientToken } from '../../src/crypto/token.js';
import { RedisEngine } from '../../src/engine/redis.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import { type Hub, startHub } from '../../src/hub/service.js';
import { HubStore } from '../../src/hub/store.js';
import { REDIS_URL } from '../fixtures/engines.js';
import { connect, next, request, seal, startTestGateway } from '../fixtures/gateway.js';
import { buildWorld, device, type World } from '../fixtures/world.js';

const HUB_AUDIENCE = 'liaison-test-hub';

// The hub's namespace as protocol/v1/analyst.ts publishes it, checked against a real hub.
describe('the /analyst namespace', () => {
  let world: World;
  const prefix = `liaison-test:${randomUUID()}:`;
  let gatewayEngine: RedisEngine;
  let hubEngine: RedisEngine;
  let store: HubStore;
  let gateway: Gateway;
  let hub: Hub;
  let kordai: Socket;
  let analyst: Socket;

  beforeAll(async () => {
    world = await buildWorld(Date.now());
    gatewayEngine = new RedisEngine({ url: REDIS_URL, prefix, retentionMs: 60_000 });
    hubEngine = new RedisEngine({ url: REDIS_URL, prefix, retentionMs: 60_000 });
    store = new HubStore(REDIS_URL, prefix);
    gateway = await startTestGateway(gatewayEngine, world);
    hub = await startHub(
      {
        host: '127.0.0.1',
        port: 0,
        audience: HUB_AUDIENCE,
        consumer: 'test-hub',
        deadlines: { FLASH: 300, IMMEDIATE: 600 },
        retentionMs: 3_600_000,
      },
      {
        engine: hubEngine,
        store,
        hubKeys: device(world, 'CARICC/hub'),
        authority: world.directory.authority,
        logger: pino({ level: 'silent' }),
      },
    );
    kordai = await connect(gateway, device(world, 'KZ-KORDAI/desk-1'));
    analyst = io(`${hub.url}/analyst`, {
      auth: {
        token: await createClientToken(device(world, 'CARICC/analyst-1'), {
          audience: HUB_AUDIENCE,
        }),
      },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    await next(analyst, 'connect');
  });
  afterAll(async () => {
    kordai?.close();
    analyst?.close();
    await hub?.close();
    await gateway?.close();
    await store?.close();
    await gatewayEngine?.destroy();
    await gatewayEngine?.close();
    await hubEngine?.close();
  });

  it('answers, records and escalates with the published shapes, nothing more', async () => {
    const refused = await request(analyst, 'feed:subscribe', { limit: 0 });
    expect(FeedSubscribeAck.parse(refused)).toMatchObject({
      ok: false,
      error: { code: 'VALIDATION_FAILED' },
    });
    const subscribed = await request(analyst, 'feed:subscribe', { after: 0, filter: {} });
    expect(FeedSubscribeAck.parse(subscribed)).toMatchObject({ ok: true });

    const recorded: unknown[] = [];
    analyst.on('record', (entry: unknown) => recorded.push(entry));
    const escalation = next(analyst, 'escalation');
    const escalated = next(kordai, 'alert:escalated');
    const flash: Body = {
      type: 'alert',
      category: 'illegal-crossing',
      precedence: 'FLASH',
      title: 'Crossing outside the post',
      description: '',
      location: { bcp: 'Kordai' },
      subjects: [],
      validFrom: Date.now(),
      validUntil: Date.now() + 3_600_000,
    };
    const alert = await seal(world, device(world, 'KZ-KORDAI/desk-1'), ['KG-AKZHOL'], flash);
    const forged = await seal(world, device(world, 'KZ-KORDAI/desk-1'), ['KG-AKZHOL'], {
      type: 'chat',
      text: 'signed by nobody',
    });
    forged.signature = alert.signature;
    for (const envelope of [alert, forged]) {
      expect(await request(kordai, 'envelope:send', envelope)).toMatchObject({ ok: true });
    }

    expect(FeedEscalation.parse(await escalation)).toMatchObject({
      alertId: alert.header.id,
      from: 'KZ-KORDAI',
    });
    expect(EscalationEvent.parse(await escalated)).toMatchObject({ alertId: alert.header.id });
    await expect.poll(() => recorded.length, { timeout: 5_000 }).toBe(2);
    const entries = recorded.map((entry) => RecordEntry.parse(entry));
    expect(entries.map((e) => [e.id, e.status, e.code])).toEqual([
      [alert.header.id, 'compliant', undefined],
      [forged.header.id, 'non-compliant', 'SIGNATURE_INVALID'],
    ]);
    expect(entries[0]?.body).toEqual(flash);
  });
});
