import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Body } from '../../protocol/v1/payload.js';
import type { DeviceKeys } from '../../src/crypto/keys.js';
import { createClientToken } from '../../src/crypto/token.js';
import { RedisEngine } from '../../src/engine/redis.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import { type Hub, startHub } from '../../src/hub/service.js';
import { HubStore } from '../../src/hub/store.js';
import { REDIS_URL } from '../fixtures/engines.js';
import {
  AUDIENCE,
  chat,
  connect,
  next,
  request,
  seal,
  startTestGateway,
} from '../fixtures/gateway.js';
import { buildWorld, device, type World } from '../fixtures/world.js';

const HUB_AUDIENCE = 'liaison-test-hub';
const root = join(import.meta.dirname, '..', '..');

describe('the CARICC hub service', () => {
  let world: World;
  const prefix = `liaison-test:${randomUUID()}:`;
  let gatewayEngine: RedisEngine;
  let hubEngine: RedisEngine;
  let store: HubStore;
  let gateway: Gateway;
  let hub: Hub;
  let kordai: Socket;
  let akzhol: Socket;

  const token = (keys: DeviceKeys) => createClientToken(keys, { audience: HUB_AUDIENCE });
  const get = async (path: string, keys?: DeviceKeys) => {
    const headers: Record<string, string> = keys
      ? { authorization: `Bearer ${await token(keys)}` }
      : {};
    const response = await fetch(`${hub.url}${path}`, { headers });
    // biome-ignore lint/suspicious/noExplicitAny: response bodies are checked by the assertions
    return { status: response.status, body: (await response.json()) as any };
  };
  const analyst = () => device(world, 'CARICC/analyst-1');
  const send = async (socket: Socket, from: string, to: string, body: Body) => {
    const envelope = await seal(world, device(world, from), [to], body);
    expect(await request(socket, 'envelope:send', envelope)).toMatchObject({ ok: true });
    return envelope;
  };
  const alert = (title: string, precedence: 'FLASH' | 'ROUTINE'): Body => ({
    type: 'alert',
    category: 'suspicious-vehicle',
    precedence,
    title,
    description: 'Grey Kamaz, false floor suspected.',
    location: { bcp: 'Kordai' },
    subjects: [{ kind: 'vehicle', plate: '01 KG 777 ABC' }],
    validFrom: Date.now(),
    validUntil: Date.now() + 3_600_000,
  });
  const settled = async (count: number) => {
    await expect
      .poll(async () => (await store.record.length()) >= count, { timeout: 5_000 })
      .toBe(true);
  };

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
        deadlines: { FLASH: 400, IMMEDIATE: 800 },
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
    akzhol = await connect(gateway, device(world, 'KG-AKZHOL/desk-1'));
  });
  afterAll(async () => {
    kordai.close();
    akzhol.close();
    await hub.close();
    await gateway.close();
    await store.close();
    await gatewayEngine.destroy();
    await gatewayEngine.close();
    await hubEngine.close();
  });

  it('lets analysts, and only analysts, search the record with the content opened', async () => {
    await send(kordai, 'KZ-KORDAI/desk-1', 'KG-AKZHOL', chat('Convoy at 10:40'));
    await send(kordai, 'KZ-KORDAI/desk-1', 'KG-AKZHOL', alert('Routine check', 'ROUTINE'));
    await settled(2);

    expect((await get('/v1/record')).body.error.code).toBe('UNAUTHORIZED');
    const office = await get('/v1/record', device(world, 'KZ-KORDAI/desk-1'));
    expect(office).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });

    const all = await get('/v1/record', analyst());
    expect(all.status).toBe(200);
    expect(all.body.entries.map((e: { body: Body }) => e.body.type)).toEqual(['chat', 'alert']);
    expect(all.body.entries[0]).toMatchObject({
      from: 'KZ-KORDAI',
      to: ['KG-AKZHOL'],
      status: 'compliant',
      body: { text: 'Convoy at 10:40' },
    });

    const alerts = await get('/v1/record?kind=alert&link=KG-AKZHOL,KZ-KORDAI', analyst());
    expect(alerts.body.entries).toHaveLength(1);
    const none = await get('/v1/record?office=UZ-OYBEK', analyst());
    expect(none.body.entries).toEqual([]);
    expect((await get('/v1/record?kind=poem', analyst())).body.error.code).toBe(
      'VALIDATION_FAILED',
    );
    const metrics = await (await fetch(`${hub.url}/metrics`)).text();
    expect(metrics).toContain('liaison_hub_lag_seconds');
    expect(metrics).toMatch(/liaison_hub_recorded_total \d+/);
    expect(metrics).not.toContain('Convoy');
  });

  it("an analyst's token opens the hub once, and a token for the gateway never does", async () => {
    const once = await token(analyst());
    const headers = { authorization: `Bearer ${once}` };
    expect((await fetch(`${hub.url}/v1/record/verify`, { headers })).status).toBe(200);
    const again = await fetch(`${hub.url}/v1/record/verify`, { headers });
    expect(again.status).toBe(401);
    expect(((await again.json()) as { error: { code: string } }).error.code).toBe('TOKEN_REPLAYED');
    const forGateway = await createClientToken(analyst(), { audience: AUDIENCE });
    const elsewhere = await fetch(`${hub.url}/v1/record/verify`, {
      headers: { authorization: `Bearer ${forGateway}` },
    });
    expect(((await elsewhere.json()) as { error: { code: string } }).error.code).toBe(
      'TOKEN_AUDIENCE',
    );
  });

  it('streams new entries live to an analyst, filtered, after a catch-up', async () => {
    const socket = io(`${hub.url}/analyst`, {
      auth: { token: await token(analyst()) },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    await new Promise((resolve, reject) => {
      socket.once('connect', () => resolve(undefined));
      socket.once('connect_error', reject);
    });
    const caughtUp = await socket
      .timeout(5000)
      .emitWithAck('feed:subscribe', { after: 0, limit: 100, filter: { kind: 'alert' } });
    expect(caughtUp.entries.length).toBeGreaterThanOrEqual(1);
    const live = next<{ id: string; body: Body }>(socket, 'record');
    await send(kordai, 'KZ-KORDAI/desk-1', 'KG-AKZHOL', chat('not an alert'));
    const sent = await send(akzhol, 'KG-AKZHOL/desk-1', 'KZ-KORDAI', alert('Live one', 'ROUTINE'));
    const pushed = await live;
    expect(pushed.id).toBe(sent.header.id);
    expect(pushed.body).toMatchObject({ title: 'Live one' });
    socket.close();

    const officeSocket = io(`${hub.url}/analyst`, {
      auth: { token: await token(device(world, 'KG-AKZHOL/desk-1')) },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    const refused = await new Promise<{ data?: { code: string } }>((resolve) =>
      officeSocket.once('connect_error', resolve),
    );
    expect(refused.data?.code).toBe('FORBIDDEN');
    officeSocket.close();

    // The default namespace serves nothing and takes no one, token or not.
    for (const auth of [{}, { token: await token(analyst()) }]) {
      const bare = io(hub.url, {
        auth,
        transports: ['websocket'],
        reconnection: false,
        forceNew: true,
      });
      const refusal = await new Promise<{ data?: { code: string } }>((resolve) =>
        bare.once('connect_error', resolve),
      );
      expect(refusal.data?.code).toBe('UNAUTHORIZED');
      bare.close();
    }
  });

  it('escalates an unacknowledged FLASH alert to the sending office and the analysts', async () => {
    const escalated = next<{ alertId: string; precedence: string; to: string[] }>(
      kordai,
      'alert:escalated',
    );
    const flash = await send(
      kordai,
      'KZ-KORDAI/desk-1',
      'KG-AKZHOL',
      alert('Shots fired at the gate', 'FLASH'),
    );
    expect(await escalated).toMatchObject({
      alertId: flash.header.id,
      precedence: 'FLASH',
      to: ['KG-AKZHOL'],
    });
  });

  it('reports statistics an analyst asks for', async () => {
    const acked = await send(
      kordai,
      'KZ-KORDAI/desk-1',
      'KG-AKZHOL',
      alert('Acknowledge me', 'FLASH'),
    );
    await send(akzhol, 'KG-AKZHOL/desk-1', 'KZ-KORDAI', {
      type: 'alert-ack',
      alertId: acked.header.id,
    });
    await settled(7);
    const stats = (await get('/v1/stats?silentHours=1', analyst())).body;
    const link = stats.perLinkPerDay.find(
      (row: { link: string }) => row.link === 'KG-AKZHOL,KZ-KORDAI',
    );
    expect(link.messages).toBeGreaterThanOrEqual(7);
    expect(link.alerts).toBeGreaterThanOrEqual(4);
    expect(stats.alertsByCategory['suspicious-vehicle']).toBeGreaterThanOrEqual(4);
    expect(stats.medianAckMsByOffice['KG-AKZHOL']).toBeGreaterThanOrEqual(0);
    expect(stats.silentOffices.map((o: { officeId: string }) => o.officeId)).toContain('UZ-OYBEK');
    expect(stats.silentOffices.map((o: { officeId: string }) => o.officeId)).not.toContain(
      'KZ-KORDAI',
    );
  });

  it('finds one case’s items, read from the opened content, and counts each case', async () => {
    const caseRef = { id: randomUUID(), title: 'Kordai heroin route', status: 'open' as const };
    const recorded = await store.record.length();
    const inCase = await send(kordai, 'KZ-KORDAI/desk-1', 'KG-AKZHOL', {
      type: 'chat',
      text: 'Same Kamaz as last week',
      case: caseRef,
    });
    await send(kordai, 'KZ-KORDAI/desk-1', 'KG-AKZHOL', chat('Not in any case'));
    await send(akzhol, 'KG-AKZHOL/desk-1', 'KZ-KORDAI', {
      type: 'chat',
      text: 'Closing it: driver arrested',
      case: { ...caseRef, status: 'closed' },
    });
    await settled(recorded + 3);
    const found = await get(`/v1/record?case=${caseRef.id}&limit=500`, analyst());
    expect(found.body.entries.map((e: { id: string }) => e.id)).toContain(inCase.header.id);
    expect(
      found.body.entries.map((e: { body: Body }) => (e.body as { text: string }).text),
    ).toEqual(['Same Kamaz as last week', 'Closing it: driver arrested']);
    const stats = (await get('/v1/stats', analyst())).body;
    expect(stats.perCase.find((c: { caseId: string }) => c.caseId === caseRef.id)).toMatchObject({
      title: 'Kordai heroin route',
      status: 'closed',
      items: 2,
      alerts: 0,
      offices: ['KG-AKZHOL', 'KZ-KORDAI'],
    });
    expect((await get('/v1/record?case=not-a-uuid', analyst())).body.error.code).toBe(
      'VALIDATION_FAILED',
    );
  });

  // CLI processes, one after another: seconds each on a busy machine.
  it('`liaison hub verify` vouches for the record, and names the first entry that was tampered with', {
    timeout: 180_000,
  }, async () => {
    const run = promisify(execFile);
    const cli = (env: Record<string, string>) =>
      run(
        join(root, 'node_modules', '.bin', 'tsx'),
        [join(root, 'src', 'cli', 'main.ts'), 'hub', 'verify'],
        {
          env: { ...process.env, REDIS_URL, REDIS_PREFIX: prefix, LOG_LEVEL: 'silent', ...env },
        },
      ).then(
        ({ stdout }) => ({ code: 0, stdout }),
        (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
      );
    const intact = await cli({});
    expect(intact.code).toBe(0);
    expect(intact.stdout).toMatch(/record intact: \d+ entries/);

    const { Redis } = await import('ioredis');
    const redis = new Redis(REDIS_URL);
    const key = `${prefix}record`;
    const second = (await redis.lindex(key, 1)) as string;
    await redis.lset(key, 1, second.replace('"compliant"', '"non-compliant"'));
    const broken = await cli({});
    await redis.lset(key, 1, second);
    await redis.quit();
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain('record BROKEN at entry 2');
  });
});
