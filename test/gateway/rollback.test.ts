import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiaisonClient } from '../../src/client/client.js';
import type { KnownHead } from '../../src/directory/head.js';
import { RedisEngine } from '../../src/engine/redis.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import { startHub } from '../../src/hub/service.js';
import { HubStore } from '../../src/hub/store.js';
import { nextStatement } from '../fixtures/directory-changes.js';
import { REDIS_URL } from '../fixtures/engines.js';
import { AUDIENCE, signedHead, startTestGateway } from '../fixtures/gateway.js';
import { buildWorld, device, type World } from '../fixtures/world.js';

// Someone who can write to Redis deletes a fresh revocation from the directory log, so that a
// stolen laptop's key is trusted again after the services restart. The chain, the signed head
// and the head each device remembers stop it.

describe('a revocation deleted from Redis is a rollback everyone refuses', () => {
  let world: World;
  const prefix = `liaison-test:${randomUUID()}:`;
  const engines: RedisEngine[] = [];
  const gateways: Gateway[] = [];
  let redis: Redis;
  /** What a device of Ak-Zhol remembered after seeing the revocation. */
  let remembered: KnownHead | undefined;
  let afterRevocation: { statements: string[]; head: string | null };

  const engine = () => {
    const e = new RedisEngine({ url: REDIS_URL, prefix, retentionMs: 60_000 });
    engines.push(e);
    return e;
  };
  const client = (url: string, knownHead?: KnownHead) =>
    new LiaisonClient({
      url,
      audience: AUDIENCE,
      keys: device(world, 'KG-AKZHOL/desk-1'),
      authority: world.directory.authority,
      ...(knownHead ? { knownHead } : {}),
    });
  const restartGateway = async () => {
    const gateway = await startTestGateway(engine(), world);
    gateways.push(gateway);
    return gateway;
  };

  beforeAll(async () => {
    world = await buildWorld(Date.now());
    redis = new Redis(REDIS_URL);
    const gateway = await restartGateway();
    const revocation = await nextStatement(world, 'device.revoked', {
      deviceId: 'KZ-KORDAI/duty-1',
      reason: 'lost',
    });
    await gateway.sync.submit([revocation]);
    await gateway.sync.submitHead(await signedHead(world));
    const akzhol = client(gateway.url);
    await akzhol.refreshDirectory();
    remembered = akzhol.head;
    afterRevocation = {
      statements: await redis.lrange(`${prefix}directory`, 0, -1),
      head: await redis.get(`${prefix}directory:head`),
    };
    for (const g of gateways.splice(0)) await g.close();
  });
  afterAll(async () => {
    for (const g of gateways) await g.close();
    for (const e of engines) {
      await e.destroy().catch(() => undefined);
      await e.close();
    }
    await redis.quit();
  });

  /** The attacker's edit: drop the last statement (the revocation), maybe put back an old head. */
  const rollBack = async (head: string | null) => {
    await redis.del(`${prefix}directory`);
    await redis.rpush(`${prefix}directory`, ...afterRevocation.statements.slice(0, -1));
    if (head === null) await redis.del(`${prefix}directory:head`);
    else await redis.set(`${prefix}directory:head`, head);
  };

  it('the device remembers the head that names the revocation', () => {
    expect(remembered?.version).toBe(afterRevocation.statements.length);
  });

  it('with the new head left in place, a restarted gateway and hub refuse to start', async () => {
    await rollBack(afterRevocation.head);
    await expect(restartGateway()).rejects.toMatchObject({ code: 'DIRECTORY_ROLLBACK' });
    const store = new HubStore(REDIS_URL, prefix);
    const e = engine();
    await expect(
      startHub(
        {
          host: '127.0.0.1',
          port: 0,
          audience: 'liaison-hub',
          consumer: 'rollback',
          deadlines: { FLASH: 60_000, IMMEDIATE: 60_000 },
          retentionMs: 60_000,
        },
        {
          engine: e,
          store,
          hubKeys: device(world, 'CARICC/hub'),
          authority: world.directory.authority,
          logger: pino({ level: 'silent' }),
        },
      ),
    ).rejects.toMatchObject({ code: 'DIRECTORY_ROLLBACK' });
    await store.close();
  });

  it('with the head removed too, the gateway serves the shorter directory, and the device refuses it', async () => {
    await rollBack(null);
    const gateway = await restartGateway();
    expect(gateway.sync.directory.version).toBe(afterRevocation.statements.length - 1);
    await expect(client(gateway.url, remembered).start()).rejects.toMatchObject({
      code: 'DIRECTORY_ROLLBACK',
    });
    // A device that never saw a head cannot know; the head's expiry bounds how long that lasts.
    await gateways.pop()?.close();
  });

  it('with an older head put back, the device refuses it as older than the one it saw', async () => {
    // The head from before the revocation: re-sign the world's head at the earlier version.
    const { signDirectoryHead } = await import('../../src/crypto/statement.js');
    const earlier = world.directory.positionAt(afterRevocation.statements.length - 1);
    const oldHead = await signDirectoryHead(world.authority, earlier as never, {
      issuedAt: Date.now() - 60_000,
      expiresAt: Date.now() + 3_600_000,
    });
    await rollBack(JSON.stringify(oldHead));
    const gateway = await restartGateway();
    await expect(client(gateway.url, remembered).start()).rejects.toMatchObject({
      code: 'DIRECTORY_ROLLBACK',
    });
  });
});
