import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { BlobPut } from '../../src/engine/blob-store.js';
import type { Engine } from '../../src/engine/engine.js';
import { disposeEngine, ENGINES } from '../fixtures/engines.js';

const KZ = 'KZ-KORDAI';
const KG = 'KG-AKZHOL';
const HASH = 'A'.repeat(43);
const bytes = (n: number, fill = 1) => new Uint8Array(n).fill(fill);
const put = (engine: Engine, request: Partial<BlobPut> & { blobId: string; index: number }) =>
  engine.blobs.put({
    owner: KZ,
    chunk: bytes(100),
    maxBytes: 1_000,
    quotaBytes: 10_000,
    maxBlobs: 100,
    ...request,
  });
const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (error: { code?: string }) => error.code,
  );

describe.each(ENGINES)('$name engine: attachment blobs', ({ make }) => {
  let engine: Engine;
  afterEach(async () => {
    await disposeEngine(engine);
  });

  it('stores chunks in order, says how far an upload got, and serves them once sealed', async () => {
    engine = make();
    const blobId = randomUUID();
    expect(await engine.blobs.status(blobId)).toBeUndefined();
    expect(await put(engine, { blobId, index: 0, chunk: bytes(100, 7) })).toBe(1);
    expect(await put(engine, { blobId, index: 1, chunk: bytes(50, 8) })).toBe(2);
    // The same chunk again (its ack was lost): nothing changes.
    expect(await put(engine, { blobId, index: 1, chunk: bytes(50, 8) })).toBe(2);
    expect(await engine.blobs.status(blobId)).toMatchObject({
      owner: KZ,
      received: 2,
      bytes: 150,
      sealed: false,
    });
    const sealed = await engine.blobs.seal(blobId, KZ, 2, HASH);
    expect(sealed).toMatchObject({ sealed: true, hash: HASH });
    expect(sealed.expiresAt).toBeGreaterThan(Date.now());
    expect(Buffer.from((await engine.blobs.get(blobId, 1)) ?? [])).toEqual(
      Buffer.from(bytes(50, 8)),
    );
    expect(await engine.blobs.get(blobId, 2)).toBeUndefined();
    expect(await engine.blobs.usage(KZ)).toBe(150);
    expect(await engine.blobs.usage(KG)).toBe(0);
  });

  it('refuses chunks out of order, another office writing, a start past 0 and changes once sealed', async () => {
    engine = make();
    const blobId = randomUUID();
    expect(await codeOf(put(engine, { blobId, index: 1 }))).toBe('BLOB_NOT_FOUND');
    await put(engine, { blobId, index: 0 });
    expect(await codeOf(put(engine, { blobId, index: 2 }))).toBe('BLOB_INVALID');
    expect(await codeOf(put(engine, { blobId, index: 1, owner: KG }))).toBe('BLOB_NOT_FOUND');
    expect(await codeOf(engine.blobs.seal(blobId, KG, 1, HASH))).toBe('BLOB_NOT_FOUND');
    expect(await codeOf(engine.blobs.seal(blobId, KZ, 2, HASH))).toBe('BLOB_INVALID');
    await engine.blobs.seal(blobId, KZ, 1, HASH);
    expect(await codeOf(put(engine, { blobId, index: 1 }))).toBe('BLOB_INVALID');
  });

  it('keeps the hash a blob was first sealed with; discards only an unsealed upload of its owner', async () => {
    engine = make();
    const sealed = randomUUID();
    await put(engine, { blobId: sealed, index: 0 });
    await engine.blobs.seal(sealed, KZ, 1, HASH);
    expect(await engine.blobs.seal(sealed, KZ, 1, 'B'.repeat(43))).toMatchObject({ hash: HASH });
    await engine.blobs.discard(sealed, KZ);
    expect(await engine.blobs.status(sealed)).toMatchObject({ sealed: true, hash: HASH });
    const failed = randomUUID();
    await put(engine, { blobId: failed, index: 0 });
    await put(engine, { blobId: failed, index: 1 });
    await engine.blobs.discard(failed, KG);
    expect(await engine.blobs.status(failed)).toMatchObject({ received: 2 });
    expect(await engine.blobs.usage(KZ)).toBe(300);
    await engine.blobs.discard(failed, KZ);
    expect(await engine.blobs.status(failed)).toBeUndefined();
    expect(await engine.blobs.get(failed, 0)).toBeUndefined();
    expect(await engine.blobs.usage(KZ)).toBe(100);
  });

  it('refuses a blob past its size limit and an office past its quota, with codes', async () => {
    engine = make();
    const big = randomUUID();
    await put(engine, { blobId: big, index: 0, chunk: bytes(600) });
    expect(await codeOf(put(engine, { blobId: big, index: 1, chunk: bytes(600) }))).toBe(
      'PAYLOAD_TOO_LARGE',
    );
    const other = randomUUID();
    await put(engine, { blobId: other, index: 0, chunk: bytes(300), quotaBytes: 1_000 });
    await expect(
      put(engine, { blobId: randomUUID(), index: 0, chunk: bytes(200), quotaBytes: 1_000 }),
    ).rejects.toMatchObject({ code: 'QUOTA_EXCEEDED', details: { usedBytes: 900 } });
    // A count of blobs too: each costs keys, however small.
    await expect(
      put(engine, { blobId: randomUUID(), index: 0, chunk: bytes(20), maxBlobs: 2 }),
    ).rejects.toMatchObject({ code: 'QUOTA_EXCEEDED', details: { maxBlobs: 2 } });
    // Another office has a quota of its own.
    expect(
      await put(engine, { blobId: randomUUID(), index: 0, owner: KG, quotaBytes: 1_000 }),
    ).toBe(1);
  });

  it('chunks stored at the same moment cannot pass the quota or the blob count together', async () => {
    engine = make();
    const at = (n: number, request: Partial<BlobPut>) =>
      Promise.all(
        Array.from({ length: n }, () =>
          codeOf(put(engine, { blobId: randomUUID(), index: 0, chunk: bytes(200), ...request })),
        ),
      );
    const quota = await at(10, { quotaBytes: 1_000 });
    expect(quota.filter((c) => c === 'resolved')).toHaveLength(5);
    expect(quota.filter((c) => c === 'QUOTA_EXCEEDED')).toHaveLength(5);
    expect(await engine.blobs.usage(KZ)).toBe(1_000);
    const count = await at(4, { owner: KG, maxBlobs: 2 });
    expect(count.filter((c) => c === 'resolved')).toHaveLength(2);
  });

  it('forgets blobs past retention and gives their bytes back to the quota', async () => {
    engine = make(300);
    const blobId = randomUUID();
    await put(engine, { blobId, index: 0, chunk: bytes(900), quotaBytes: 1_000 });
    expect(await engine.blobs.usage(KZ)).toBe(900);
    await expect.poll(() => engine.blobs.status(blobId), { timeout: 10_000 }).toBeUndefined();
    await expect.poll(() => engine.blobs.usage(KZ), { timeout: 10_000 }).toBe(0);
    expect(await engine.blobs.get(blobId, 0)).toBeUndefined();
    expect(
      await put(engine, { blobId: randomUUID(), index: 0, chunk: bytes(900), quotaBytes: 1_000 }),
    ).toBe(1);
  });
});
