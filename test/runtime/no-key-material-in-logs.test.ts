// Nothing logs key material (issue 14): a gateway and a hub at their most talkative level carry a
// whole exchange — prekeys published and fetched, a chat sealed, delivered, acknowledged and
// recorded — and their logs are searched for every key, seed, prekey, token and plaintext used.
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiaisonClient } from '../../src/client/client.js';
import { PrekeyStore } from '../../src/crypto/prekey-store.js';
import { toBase64Url } from '../../src/crypto/sodium.js';
import { RedisEngine } from '../../src/engine/redis.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import type { Hub } from '../../src/hub/service.js';
import { HubStore } from '../../src/hub/store.js';
import { waitFor } from '../fixtures/client.js';
import { REDIS_URL } from '../fixtures/engines.js';
import { AUDIENCE, startTestGateway } from '../fixtures/gateway.js';
import { keptHubPrekeys, startTestHub } from '../fixtures/hub.js';
import { buildWorld, device, type World } from '../fixtures/world.js';

/** Every spelling a byte string could take in a log line. */
const spellings = (bytes: Uint8Array) => [
  toBase64Url(bytes),
  Buffer.from(bytes).toString('base64'),
  Buffer.from(bytes).toString('hex'),
];

describe('logs of a full exchange', () => {
  const raw: string[] = [];
  const sink = () =>
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        raw.push(chunk.toString());
        done();
      },
    });
  let world: World;
  let prefix: string;
  let gatewayEngine: RedisEngine;
  let hubEngine: RedisEngine;
  let store: HubStore;
  let gateway: Gateway;
  let hub: Hub;
  const hubPrekeys = keptHubPrekeys();

  beforeAll(async () => {
    world = await buildWorld(Date.now());
    prefix = `liaison-test:${randomUUID()}:`;
    gatewayEngine = new RedisEngine({ url: REDIS_URL, prefix, retentionMs: 60_000 });
    hubEngine = new RedisEngine({ url: REDIS_URL, prefix, retentionMs: 60_000 });
    store = new HubStore(REDIS_URL, prefix);
    gateway = await startTestGateway(gatewayEngine, world, {
      logger: pino({ level: 'trace' }, sink()),
    });
    hub = await startTestHub(world, {
      engine: hubEngine,
      store,
      logger: pino({ level: 'trace' }, sink()),
      prekeys: hubPrekeys,
    });
  });
  afterAll(async () => {
    await hub.close();
    await gateway.close();
    await store.close();
    await gatewayEngine.destroy();
    await gatewayEngine.close();
    await hubEngine.close();
  });

  it('hold no key, seed, prekey, token or plaintext', async () => {
    const options = (deviceId: string) => ({
      url: gateway.url,
      audience: AUDIENCE,
      keys: device(world, deviceId),
      authority: world.directory.authority,
    });
    const akzhol = new LiaisonClient(options('KG-AKZHOL/desk-1'));
    const kordai = new LiaisonClient(options('KZ-KORDAI/desk-1'));
    try {
      await akzhol.start();
      await kordai.start();
      const text = `Convoy plate 01 KG 777 ABC at 10:40 ${randomUUID()}`;
      const arrived = waitFor(akzhol, 'message');
      const id = await kordai.sendChat('KG-AKZHOL', text);
      await arrived;
      await expect
        .poll(async () => (await store.record.entries(0, 100)).some((e) => e.includes(id)), {
          timeout: 20_000,
        })
        .toBe(true);
      const logs = raw.join('');
      expect(logs.length).toBeGreaterThan(0);

      const secrets: string[] = [text];
      for (const keys of Object.values(world.devices)) {
        secrets.push(...spellings(keys.signingSecretKey.slice(0, 32)));
        secrets.push(...spellings(keys.encryptionSecretKey));
      }
      secrets.push(...spellings(world.authority.signingSecretKey.slice(0, 32)));
      // The prekeys in use: the receiver's and the hub's private halves, and their sealed states.
      const receiver = PrekeyStore.open(device(world, 'KG-AKZHOL/desk-1'), akzhol.prekeyState);
      const hubStore = PrekeyStore.open(device(world, 'CARICC/hub'), hubPrekeys.state);
      for (const store of [receiver, hubStore]) {
        for (const prekeyId of store.held()) secrets.push(...spellings(store.open(prekeyId)));
      }
      secrets.push(akzhol.prekeyState.slice(0, 40), hubPrekeys.state?.slice(0, 40) as string);
      for (const secret of secrets) expect(logs).not.toContain(secret);
      // No client token either (a JWT's header starts eyJ).
      expect(logs).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.eyJ/);
    } finally {
      akzhol.stop();
      kordai.stop();
    }
  });
});
