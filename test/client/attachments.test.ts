import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { Redis } from 'ioredis';
import type { Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ATTACHMENT_CHUNK_BYTES, type AttachmentRef } from '../../protocol/v1/blob.js';
import type { Body } from '../../protocol/v1/payload.js';
import { AnalystClient } from '../../src/client/analyst.js';
import { LiaisonClient, type Message } from '../../src/client/client.js';
import { ready } from '../../src/crypto/sodium.js';
import { RedisEngine } from '../../src/engine/redis.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import type { Hub } from '../../src/hub/service.js';
import { HubStore } from '../../src/hub/store.js';
import { waitFor } from '../fixtures/client.js';
import { REDIS_URL } from '../fixtures/engines.js';
import { AUDIENCE, connect, request, startTestGateway } from '../fixtures/gateway.js';
import { startTestHub } from '../fixtures/hub.js';
import { buildWorld, device, type World } from '../fixtures/world.js';

const MiB = 1024 * 1024;
const HUB_AUDIENCE = 'liaison-test-hub';
const JPEG = [0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46];
const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** A "photo" of `size` bytes made piece by piece (never whole in memory), starting as a JPEG. */
function* photo(size: number, seed = 1): Generator<Uint8Array> {
  for (let at = 0; at < size; at += MiB) {
    const piece = new Uint8Array(Math.min(MiB, size - at));
    for (let i = 0; i < piece.length; i += 64) piece[i] = (at / MiB + i + seed) & 0xff;
    if (at === 0) piece.set(JPEG);
    yield piece;
  }
}

/** BLAKE2b-256 of what a source yields, in hex. */
async function digest(pieces: Iterable<Uint8Array>): Promise<string> {
  const sodium = await ready;
  const state = sodium.crypto_generichash_init(null, 32);
  for (const piece of pieces) sodium.crypto_generichash_update(state, piece);
  return Buffer.from(sodium.crypto_generichash_final(state, 32)).toString('hex');
}

/** The client's live socket, to cut it as a remote post's link drops. */
const socketOf = (client: LiaisonClient) => (client as unknown as { socket: Socket }).socket;

describe('encrypted attachments end to end (real gateway, Redis, hub, crypto)', () => {
  let world: World;
  const prefix = `liaison-test:${randomUUID()}:`;
  let engine: RedisEngine;
  let hubEngine: RedisEngine;
  let store: HubStore;
  let gateway: Gateway;
  let hub: Hub;
  const clients: LiaisonClient[] = [];
  const client = (deviceId: string, url = gateway.url) => {
    const c = new LiaisonClient({
      url,
      audience: AUDIENCE,
      keys: device(world, deviceId),
      authority: world.directory.authority,
    });
    clients.push(c);
    return c;
  };
  const attachments = (m: Message): AttachmentRef[] =>
    m.body.type === 'chat' || m.body.type === 'alert' ? (m.body.attachments ?? []) : [];

  beforeAll(async () => {
    world = await buildWorld(Date.now());
    engine = new RedisEngine({ url: REDIS_URL, prefix, retentionMs: 3_600_000 });
    hubEngine = new RedisEngine({ url: REDIS_URL, prefix, retentionMs: 3_600_000 });
    store = new HubStore(REDIS_URL, prefix);
    gateway = await startTestGateway(engine, world);
    hub = await startTestHub(world, { engine: hubEngine, store }, { audience: HUB_AUDIENCE });
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.stop();
  });
  afterAll(async () => {
    await hub?.close();
    await gateway?.close();
    await store?.close();
    await engine?.destroy();
    await engine?.close();
    await hubEngine?.close();
  });

  it('a 25 MiB photo uploaded over a link cut three times is opened by the recipient and the analyst, hash checked', {
    timeout: 120_000,
  }, async () => {
    const kordai = client('KZ-KORDAI/desk-1');
    const akzhol = client('KG-AKZHOL/desk-1');
    await kordai.start();
    await akzhol.start();
    const size = 25 * MiB;
    const chunks = Math.ceil(size / ATTACHMENT_CHUNK_BYTES);
    let cuts = 0;
    kordai.on('disconnected', () => cuts++);
    const thumbnail = new Uint8Array(2_000);
    thumbnail.set(PNG);
    const ref = await kordai.attach(Readable.from(photo(size)), {
      name: 'truck-KZ-123ABC.jpg',
      declaredType: 'image/jpeg',
      thumbnail,
      // The link drops three times during the upload, each time as a chunk was stored.
      progress: (stored) => {
        if ([10, 45, 80].includes(stored)) socketOf(kordai).io.engine.close();
      },
    });
    expect(cuts).toBe(3);
    expect(ref).toMatchObject({ name: 'truck-KZ-123ABC.jpg', size, chunks });
    expect(await engine.blobs.status(ref.blobId)).toMatchObject({
      owner: 'KZ-KORDAI',
      received: chunks,
      sealed: true,
    });

    const arrived = waitFor(akzhol, 'message', (m) => attachments(m).length > 0);
    const body: Body = {
      type: 'chat',
      text: 'The truck at lane 3, photo attached',
      attachments: [ref],
    };
    const id = await kordai.send('KG-AKZHOL', body);
    const message = await arrived;
    expect(message.id).toBe(id);
    const [received] = attachments(message) as [AttachmentRef];
    expect(received.hash).toBe(ref.hash);

    const expected = await digest(photo(size));
    const opened = await akzhol.openAttachment(received);
    expect(opened).toMatchObject({ type: 'image/jpeg', typeMismatch: false });
    expect(await digest([opened.bytes])).toBe(expected);
    expect((await akzhol.openThumbnail(received))?.type).toBe('image/png');

    // CARICC: the hub opened the body and recorded the attachment with its hash; an analyst
    // fetches the blob from the hub and opens it with the key from the record.
    const analyst = new AnalystClient({
      url: hub.url,
      audience: HUB_AUDIENCE,
      keys: device(world, 'CARICC/analyst-1'),
      authority: world.directory.authority,
      after: 1_000_000,
    });
    try {
      await analyst.start();
      let entry: Awaited<ReturnType<typeof analyst.searchRecord>>['entries'][number] | undefined;
      await expect
        .poll(
          async () => {
            entry = (await analyst.searchRecord({ kind: 'chat' })).entries.find((e) => e.id === id);
            return entry?.status;
          },
          { timeout: 20_000 },
        )
        .toBe('compliant');
      const recorded = entry?.body?.type === 'chat' ? entry.body.attachments?.[0] : undefined;
      expect(recorded?.hash).toBe(ref.hash);
      const seen = await analyst.openAttachment(recorded as AttachmentRef);
      expect(seen.type).toBe('image/jpeg');
      expect(await digest([seen.bytes])).toBe(expected);
    } finally {
      analyst.stop();
    }
  });

  it('a chunk changed in Redis after upload is refused by the recipient (ATTACHMENT_INVALID)', {
    timeout: 60_000,
  }, async () => {
    const kordai = client('KZ-KORDAI/desk-1');
    const akzhol = client('KG-AKZHOL/desk-1');
    await kordai.start();
    await akzhol.start();
    const ref = await kordai.attach(photo(3 * ATTACHMENT_CHUNK_BYTES, 2), { name: 'scan.jpg' });
    const redis = new Redis(REDIS_URL);
    try {
      const key = engine.keys.blobChunks(ref.blobId);
      const chunk = (await redis.hgetBuffer(key, '1')) as Buffer;
      chunk[500] = (chunk[500] as number) ^ 0x01;
      await redis.hset(key, '1', chunk);
    } finally {
      redis.disconnect();
    }
    await expect(akzhol.openAttachment(ref)).rejects.toMatchObject({
      code: 'ATTACHMENT_INVALID',
      details: { index: 1 },
    });
  });

  it('an office past its quota is refused with QUOTA_EXCEEDED; an unlinked office cannot fetch', {
    timeout: 60_000,
  }, async () => {
    const small = new RedisEngine({
      url: REDIS_URL,
      prefix: `liaison-test:${randomUUID()}:`,
      retentionMs: 60_000,
    });
    const tight = await startTestGateway(small, world, { attachmentQuotaBytes: 2 * MiB });
    try {
      const kordai = client('KZ-KORDAI/desk-1', tight.url);
      await kordai.start();
      const first = await kordai.attach(photo(MiB, 3), { name: 'one.jpg' });
      await expect(kordai.attach(photo(1.5 * MiB, 4), { name: 'two.jpg' })).rejects.toMatchObject({
        code: 'QUOTA_EXCEEDED',
        details: { quotaBytes: 2 * MiB },
      });
      // Ak-Zhol (linked) may fetch; Oybek (not linked) is told there is no such blob.
      const akzhol = await connect(tight, device(world, 'KG-AKZHOL/desk-1'));
      const oybek = await connect(tight, device(world, 'UZ-OYBEK/desk-1'));
      try {
        const get = { blobId: first.blobId, index: 0 };
        expect(await request(akzhol, 'blob:get', get)).toMatchObject({ ok: true });
        const metrics = await (await fetch(`${tight.url}/metrics`)).text();
        expect(metrics).toMatch(/liaison_blob_bytes_total\{direction="in"\} [1-9]/);
        expect(metrics).toMatch(/liaison_blob_bytes_total\{direction="out"\} [1-9]/);
        expect(await request(oybek, 'blob:get', get)).toMatchObject({
          ok: false,
          error: { code: 'BLOB_NOT_FOUND' },
        });
        // Nor may it add to another office's blob.
        const put = { blobId: first.blobId, index: 4, chunk: Buffer.alloc(100) };
        expect(await request(oybek, 'blob:put', put)).toMatchObject({
          ok: false,
          error: { code: 'BLOB_NOT_FOUND' },
        });
      } finally {
        akzhol.close();
        oybek.close();
      }
    } finally {
      await tight.close();
      await small.destroy();
      await small.close();
    }
  });

  it('size limits: an oversized chunk, a chunk past the largest file, a file too large, a bad seal', {
    timeout: 60_000,
  }, async () => {
    const socket = await connect(gateway, device(world, 'KZ-KORDAI/desk-1'));
    try {
      const blobId = randomUUID();
      const huge = Buffer.alloc(ATTACHMENT_CHUNK_BYTES + 18);
      expect(await request(socket, 'blob:put', { blobId, index: 0, chunk: huge })).toMatchObject({
        ok: false,
        error: { code: 'VALIDATION_FAILED' },
      });
      expect(
        await request(socket, 'blob:put', { blobId, index: 129, chunk: Buffer.alloc(100) }),
      ).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
      // Base64 text is not a chunk: chunks travel as binary frames.
      expect(await request(socket, 'blob:put', { blobId, index: 0, chunk: 'AAAA' })).toMatchObject({
        ok: false,
        error: { code: 'VALIDATION_FAILED' },
      });
      expect(
        await request(socket, 'blob:put', { blobId, index: 0, chunk: Buffer.alloc(100) }),
      ).toMatchObject({ ok: true, received: 1 });
      const hash = Buffer.alloc(32).toString('base64url');
      expect(
        await request(socket, 'blob:seal', { blobId, chunks: 2, size: 200, hash }),
      ).toMatchObject({ ok: false, error: { code: 'BLOB_INVALID' } });
      expect(
        await request(socket, 'blob:seal', { blobId, chunks: 1, size: 100, hash }),
      ).toMatchObject({ ok: false, error: { code: 'BLOB_INVALID' } });
      // Not sealed: nobody can fetch it.
      expect(await request(socket, 'blob:get', { blobId, index: 0 })).toMatchObject({
        ok: false,
        error: { code: 'BLOB_NOT_FOUND' },
      });
    } finally {
      socket.close();
    }
    const kordai = client('KZ-KORDAI/desk-1');
    await kordai.start();
    await expect(kordai.attach(photo(33 * MiB), { name: 'too-big.jpg' })).rejects.toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
    });
  });
});
