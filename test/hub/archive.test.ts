// The analysts' side of the hub's archive (PROTOCOL.md §5.6): an entry sealed to a hub prekey past
// the hub's window shows as metadata and its envelope; CARICC's archive key, never on the hub
// host, opens it where it is kept.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnalystClient } from '../../src/client/analyst.js';
import { LiaisonClient } from '../../src/client/client.js';
import { generateDeviceKeys } from '../../src/crypto/keys.js';
import { RedisEngine } from '../../src/engine/redis.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import { HubPrekeys } from '../../src/hub/prekeys.js';
import { DEFAULT_HUB_PREKEY_WINDOW_MS, type Hub } from '../../src/hub/service.js';
import { HubStore } from '../../src/hub/store.js';
import { waitFor } from '../fixtures/client.js';
import { REDIS_URL } from '../fixtures/engines.js';
import { AUDIENCE, startTestGateway } from '../fixtures/gateway.js';
import { keptHubPrekeys, startTestHub } from '../fixtures/hub.js';
import { buildWorld, DAY, device, type World } from '../fixtures/world.js';

const HUB_AUDIENCE = 'liaison-hub';
const RETENTION = 365 * DAY;

describe('archived record entries', () => {
  let world: World;
  let prefix: string;
  let gatewayEngine: RedisEngine;
  let gateway: Gateway;
  let store: HubStore;
  const engines: RedisEngine[] = [];
  const hubs: Hub[] = [];
  const hubPrekeys = keptHubPrekeys();
  let archiveKey: Awaited<ReturnType<typeof generateDeviceKeys>>;

  const hub = async () => {
    const engine = new RedisEngine({ url: REDIS_URL, prefix, retentionMs: 60_000 });
    engines.push(engine);
    const started = await startTestHub(
      world,
      {
        engine,
        store,
        prekeys: Object.assign(hubPrekeys, { archivePublicKey: archiveKey.encryptionPublicKey }),
      },
      { retentionMs: RETENTION },
    );
    hubs.push(started);
    return started;
  };

  beforeAll(async () => {
    world = await buildWorld(Date.now());
    archiveKey = await generateDeviceKeys('CARICC/archive');
    prefix = `liaison-test:${randomUUID()}:`;
    gatewayEngine = new RedisEngine({ url: REDIS_URL, prefix, retentionMs: 60_000 });
    store = new HubStore(REDIS_URL, prefix);
    gateway = await startTestGateway(gatewayEngine, world);
  });
  afterAll(async () => {
    for (const h of hubs) await h.close();
    await gateway.close();
    await store.close();
    await gatewayEngine.destroy();
    await gatewayEngine.close();
    for (const engine of engines) await engine.close();
  });

  it('past the hub’s window an entry opens only with the archive key, away from the hub', async () => {
    const first = await hub();
    const options = (deviceId: string) => ({
      url: gateway.url,
      audience: AUDIENCE,
      keys: device(world, deviceId),
      authority: world.directory.authority,
    });
    const kordai = new LiaisonClient(options('KZ-KORDAI/desk-1'));
    const akzhol = new LiaisonClient(options('KG-AKZHOL/desk-1'));
    await Promise.all([kordai.start(), akzhol.start()]);
    const arrived = waitFor(akzhol, 'message');
    const id = await kordai.sendChat('KG-AKZHOL', 'Heroin route via Kordai, week 48');
    await arrived;
    kordai.stop();
    akzhol.stop();
    await expect
      .poll(async () => (await store.record.entries(0, 10)).some((e) => e.includes(id)), {
        timeout: 20_000,
      })
      .toBe(true);

    const analyst = new AnalystClient({
      url: first.url,
      audience: HUB_AUDIENCE,
      keys: device(world, 'CARICC/analyst-1'),
      authority: world.directory.authority,
      directoryUrl: gateway.url,
    });
    await analyst.refreshDirectory();
    const before = (await analyst.searchRecord()).entries.find((e) => e.id === id);
    expect(before?.body).toMatchObject({ text: 'Heroin route via Kordai, week 48' });
    await first.close();
    hubs.splice(0);

    // Nine days on: the hub's upkeep has sealed the day's prekey to the archive and forgotten it.
    const later = new HubPrekeys(
      device(world, 'CARICC/hub'),
      {
        ...(hubPrekeys.state ? { state: hubPrekeys.state } : {}),
        archivePublicKey: archiveKey.encryptionPublicKey,
        windowMs: DEFAULT_HUB_PREKEY_WINDOW_MS,
        save: hubPrekeys.save,
      },
      RETENTION,
    );
    expect((await later.retire(store.prekeyArchive, Date.now() + 9 * DAY)).length).toBeGreaterThan(
      0,
    );
    const second = await hub();
    const onHub = new AnalystClient({
      url: second.url,
      audience: HUB_AUDIENCE,
      keys: device(world, 'CARICC/analyst-1'),
      authority: world.directory.authority,
      directoryUrl: gateway.url,
    });
    await onHub.refreshDirectory();
    const entry = (await onHub.searchRecord()).entries.find((e) => e.id === id);
    expect(entry?.status).toBe('compliant');
    expect(entry?.body).toBeUndefined();
    expect(entry?.archived?.prekeyId).toBeDefined();

    // A wrong key opens nothing; CARICC's archive key opens it, verified as any entry is.
    const stranger = await generateDeviceKeys('CARICC/archive');
    await expect(
      onHub.openArchived(entry as NonNullable<typeof entry>, stranger),
    ).rejects.toMatchObject({
      code: 'DECRYPT_FAILED',
    });
    expect(await onHub.openArchived(entry as NonNullable<typeof entry>, archiveKey)).toMatchObject({
      type: 'chat',
      text: 'Heroin route via Kordai, week 48',
    });
    onHub.stop();
    analyst.stop();
  });
});
