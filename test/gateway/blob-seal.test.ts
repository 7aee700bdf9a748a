// `blob:seal` from the attacker's side: the gateway re-hashes what it stored before it seals a
// blob (up to 32 MiB read back from Redis). Asked again and again for one blob, that would turn
// a 150-byte request into 32 MiB of reads each time; it must cost the reads once per upload.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../src/crypto/sodium.js';
import { RedisEngine } from '../../src/engine/redis.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import { REDIS_URL } from '../fixtures/engines.js';
import { connect, request, startTestGateway } from '../fixtures/gateway.js';
import { buildWorld, device, type World } from '../fixtures/world.js';

const CHUNKS = 4;
const chunk = (n: number) => Buffer.alloc(1000, n);

describe('sealing a blob, asked for by a hostile office', () => {
  let world: World;
  let engine: RedisEngine;
  let gateway: Gateway;
  // Chunks the gateway read back from the store (the real store, counted on the way).
  let reads = 0;

  beforeAll(async () => {
    world = await buildWorld(Date.now());
    engine = new RedisEngine({
      url: REDIS_URL,
      prefix: `liaison-test:${randomUUID()}:`,
      retentionMs: 600_000,
    });
    const get = engine.blobs.get.bind(engine.blobs);
    engine.blobs.get = (blobId, index) => {
      reads++;
      return get(blobId, index);
    };
    gateway = await startTestGateway(engine, world);
  });
  afterAll(async () => {
    await gateway?.close();
    await engine?.destroy();
    await engine?.close();
  });

  const upload = async (socket: Awaited<ReturnType<typeof connect>>) => {
    const blobId = randomUUID();
    for (let index = 0; index < CHUNKS; index++) {
      const put = await request(socket, 'blob:put', { blobId, index, chunk: chunk(index) });
      expect(put).toMatchObject({ ok: true, received: index + 1 });
    }
    const sodium = await ready;
    const state = sodium.crypto_generichash_init(null, 32);
    for (let index = 0; index < CHUNKS; index++)
      sodium.crypto_generichash_update(state, chunk(index));
    const hash = Buffer.from(sodium.crypto_generichash_final(state, 32)).toString('base64url');
    return { blobId, chunks: CHUNKS, size: CHUNKS * 1000, hash };
  };

  it('a sealed blob sealed again answers from what was sealed, without reading it back', {
    timeout: 60_000,
  }, async () => {
    const socket = await connect(gateway, device(world, 'KZ-KORDAI/desk-1'));
    try {
      const seal = await upload(socket);
      reads = 0;
      expect(await request(socket, 'blob:seal', seal)).toMatchObject({ ok: true, sealed: true });
      expect(reads).toBe(CHUNKS);
      // The answer was lost, or someone asks on purpose: the same answer, no reads.
      for (let i = 0; i < 5; i++)
        expect(await request(socket, 'blob:seal', seal)).toMatchObject({ ok: true, sealed: true });
      // Another hash for the sealed blob is refused, still without reading it.
      const other = { ...seal, hash: Buffer.alloc(32, 9).toString('base64url') };
      expect(await request(socket, 'blob:seal', other)).toMatchObject({
        ok: false,
        error: { code: 'BLOB_INVALID' },
      });
      expect(reads).toBe(CHUNKS);
    } finally {
      socket.close();
    }
  });

  it('a complete upload that fails its hash is dropped, its quota given back: asking again reads nothing', {
    timeout: 60_000,
  }, async () => {
    const socket = await connect(gateway, device(world, 'KG-AKZHOL/desk-1'));
    try {
      const seal = await upload(socket);
      expect(await engine.blobs.usage('KG-AKZHOL')).toBe(CHUNKS * 1000);
      const wrong = { ...seal, hash: Buffer.alloc(32, 9).toString('base64url') };
      reads = 0;
      expect(await request(socket, 'blob:seal', wrong)).toMatchObject({
        ok: false,
        error: { code: 'BLOB_INVALID' },
      });
      expect(reads).toBe(CHUNKS);
      for (let i = 0; i < 5; i++)
        expect(await request(socket, 'blob:seal', wrong)).toMatchObject({
          ok: false,
          error: { code: 'BLOB_NOT_FOUND' },
        });
      expect(reads).toBe(CHUNKS);
      expect(await engine.blobs.status(seal.blobId)).toBeUndefined();
      expect(await engine.blobs.usage('KG-AKZHOL')).toBe(0);
    } finally {
      socket.close();
    }
  });
});
