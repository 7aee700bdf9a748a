// Attachment throughput on loopback: a file of N MiB (default 25) encrypted and uploaded by one
// LiaisonClient through a real gateway into Redis, then fetched, verified and decrypted by the
// recipient's client. Also the Redis memory the blob takes. A measurement, not a test.
//   npx tsx scripts/measure-attachments.ts [MiB] [runs]   (Redis at REDIS_URL, default 127.0.0.1:6379)
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { LiaisonClient } from '../src/client/client.js';
import { RedisEngine } from '../src/engine/redis.js';
import { AUDIENCE, startTestGateway } from '../test/fixtures/gateway.js';
import { buildWorld, device } from '../test/fixtures/world.js';

const MiB = 1024 * 1024;
const size = Math.round(Number(process.argv[2] ?? 25) * MiB);
const runs = Number(process.argv[3] ?? 3);
const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** The file, made piece by piece as a reader of a disk file would yield it. */
function* file(): Generator<Uint8Array> {
  for (let at = 0; at < size; at += MiB) {
    const piece = new Uint8Array(Math.min(MiB, size - at));
    for (let i = 0; i < piece.length; i += 97) piece[i] = (i + at) & 0xff;
    yield piece;
  }
}

const world = await buildWorld(Date.now());
const engine = new RedisEngine({
  url,
  prefix: `liaison-measure:${randomUUID()}:`,
  retentionMs: 3_600_000,
});
const gateway = await startTestGateway(engine, world, { attachmentQuotaBytes: 4096 * MiB });
const client = (id: string) =>
  new LiaisonClient({
    url: gateway.url,
    audience: AUDIENCE,
    keys: device(world, id),
    authority: world.directory.authority,
  });
const kordai = client('KZ-KORDAI/desk-1');
const akzhol = client('KG-AKZHOL/desk-1');
const redis = new Redis(url);
try {
  await kordai.start();
  await akzhol.start();
  const mibs = size / MiB;
  for (let run = 1; run <= runs; run++) {
    const t0 = performance.now();
    const ref = await kordai.attach(file(), { name: 'measure.bin' });
    const t1 = performance.now();
    const opened = await akzhol.openAttachment(ref);
    const t2 = performance.now();
    if (opened.bytes.byteLength !== size) throw new Error('the file did not come back whole');
    const stored = Number(await redis.memory('USAGE', engine.keys.blobChunks(ref.blobId)));
    const up = (t1 - t0) / 1000;
    const down = (t2 - t1) / 1000;
    console.log(
      `run ${run}: ${mibs} MiB in ${ref.chunks} chunks — upload (encrypt+put+seal) ${up.toFixed(2)} s = ${(mibs / up).toFixed(1)} MiB/s; download (get+verify+decrypt) ${down.toFixed(2)} s = ${(mibs / down).toFixed(1)} MiB/s; Redis holds ${(stored / MiB).toFixed(2)} MiB for it`,
    );
  }
  const rss = process.memoryUsage().rss / MiB;
  console.log(
    `process RSS after the runs (gateway, both clients, one opened file): ${rss.toFixed(0)} MiB`,
  );
} finally {
  kordai.stop();
  akzhol.stop();
  redis.disconnect();
  await gateway.close();
  await engine.destroy();
  await engine.close();
}
