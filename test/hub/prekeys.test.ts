// The hub's prekeys (PROTOCOL.md §5.6): a stolen hub host opens only the current window; what is
// older opens with CARICC's archive key, which is never on the hub host.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Signed } from '../../protocol/v1/certificate.js';
import type { Envelope } from '../../protocol/v1/envelope.js';
import { pickPrekey } from '../../src/crypto/prekey.js';
import { PrekeyStore } from '../../src/crypto/prekey-store.js';
import { ready, sodium } from '../../src/crypto/sodium.js';
import { keyspace } from '../../src/engine/keyspace.js';
import { MemoryPrekeyBoard } from '../../src/engine/prekey-board.js';
import { openEnvelope } from '../../src/envelope/open.js';
import { sealEnvelope } from '../../src/envelope/seal.js';
import { openArchived } from '../../src/hub/prekey-archive.js';
import { HubPrekeys } from '../../src/hub/prekeys.js';
import { HubStore } from '../../src/hub/store.js';
import { REDIS_URL } from '../fixtures/engines.js';
import { buildWorld, DAY, device, type World } from '../fixtures/world.js';

const WINDOW = 7 * DAY;
const RETENTION = 365 * DAY;

describe('the hub’s prekeys and the archive', () => {
  let world: World;
  let store: HubStore;
  let prefix: string;
  let redis: Redis;
  beforeAll(async () => {
    await ready;
    world = await buildWorld(Date.now());
    prefix = `liaison-test:${randomUUID()}:`;
    store = new HubStore(REDIS_URL, prefix);
    redis = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await store.close();
  });

  /** An envelope from KZ-KORDAI/desk-1 sealed at `createdAt` with the hub's wrap on its prekey. */
  const sealedForHub = async (published: Signed[], createdAt: number): Promise<Envelope> => {
    const hub = world.directory.usableKey(
      'CARICC/hub',
      device(world, 'CARICC/hub').keyId,
      createdAt,
    );
    const prekey = pickPrekey(published, hub, createdAt);
    return sealEnvelope({
      sender: device(world, 'KZ-KORDAI/desk-1'),
      to: ['KG-AKZHOL'],
      body: { type: 'chat', text: 'for the record' },
      recipients: [
        ...world.directory
          .recipientKeys(['KG-AKZHOL'], createdAt)
          .filter((k) => k.deviceId !== hub.deviceId),
        { ...hub, prekeyId: prekey.prekeyId, encryptionPublicKey: prekey.publicKeyBytes },
      ],
      counter: 1,
      createdAt,
      directory: world.directory.head,
    });
  };
  const hubOpens = (
    envelope: Envelope,
    own: PrekeyStore | { openSealed: PrekeyStore['openSealed'] },
    at: number,
  ) => openEnvelope(envelope, device(world, 'CARICC/hub'), world.directory, at, {}, { own });

  it('past its window a prekey is gone from the hub host and opens only with the archive key', async () => {
    const archiveKey = sodium.crypto_box_keypair();
    const saved: string[] = [];
    const day0 = Math.floor(Date.now() / DAY) * DAY;
    const hub = new HubPrekeys(
      device(world, 'CARICC/hub'),
      {
        archivePublicKey: archiveKey.publicKey,
        windowMs: WINDOW,
        save: async (state) => {
          saved.push(state);
        },
      },
      RETENTION,
    );
    const board = new MemoryPrekeyBoard();
    await hub.publish(board, day0);
    const published = ((await board.get(['CARICC/hub'])).get('CARICC/hub') ?? []).map(
      (p) => JSON.parse(p.text) as Signed,
    );
    expect(published.length).toBe(8);
    const envelope = await sealedForHub(published, day0 + 3_600_000);
    expect((await hubOpens(envelope, hub.store, day0 + 3_600_000)).body).toMatchObject({
      text: 'for the record',
    });

    // Inside the window (day 7) nothing is retired; on day 9 day 0's prekey goes to the archive.
    expect(await hub.retire(store.prekeyArchive, day0 + 7 * DAY)).toEqual([]);
    const retired = await hub.retire(store.prekeyArchive, day0 + 9 * DAY);
    const used = envelope.recipients.find((r) => r.deviceId === 'CARICC/hub')?.prekeyId as string;
    expect(retired).toContain(used);

    // The thief takes the hub host: its key file, its saved state, and Redis with the archive.
    const stolen = PrekeyStore.open(device(world, 'CARICC/hub'), saved.at(-1));
    await expect(hubOpens(envelope, stolen, day0 + 9 * DAY)).rejects.toMatchObject({
      code: 'OWN_KEY_MISSING',
    });
    const sealed = await redis.hget(keyspace(prefix).hubPrekeyArchive, used);
    expect(sealed).toBeTruthy();
    const wrong = sodium.crypto_box_keypair();
    expect(
      await openArchived(store.prekeyArchive, used, {
        publicKey: wrong.publicKey,
        secretKey: wrong.privateKey,
      }),
    ).toBeUndefined();

    // CARICC's archive workstation, with the archive secret key, opens it.
    const secret = await openArchived(store.prekeyArchive, used, {
      publicKey: archiveKey.publicKey,
      secretKey: archiveKey.privateKey,
    });
    expect(secret).toBeDefined();
    const fromArchive = {
      openSealed: (_prekeyId: string, box: Uint8Array) =>
        sodium.crypto_box_seal_open(
          box,
          sodium.crypto_scalarmult_base(secret as Uint8Array),
          secret as Uint8Array,
        ),
    };
    expect((await hubOpens(envelope, fromArchive, day0 + 9 * DAY)).body).toMatchObject({
      text: 'for the record',
    });
  });

  it('without an archive key the hub keeps its prekeys for the whole record retention', async () => {
    const day0 = Math.floor(Date.now() / DAY) * DAY;
    const hub = new HubPrekeys(device(world, 'CARICC/hub'), { windowMs: WINDOW }, RETENTION);
    await hub.publish(new MemoryPrekeyBoard(), day0);
    expect(await hub.retire(store.prekeyArchive, day0 + 30 * DAY)).toEqual([]);
    expect(
      (await hub.retire(store.prekeyArchive, day0 + RETENTION + 2 * DAY)).length,
    ).toBeGreaterThan(0);
  });
});
