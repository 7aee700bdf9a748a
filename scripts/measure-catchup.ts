// How long the SDK takes to catch up on a backlog: N envelopes queued for an offline device,
// then a LiaisonClient starts and receives them all. A measurement, not a test.
//   npx tsx scripts/measure-catchup.ts [count]   (Redis at REDIS_URL, default 127.0.0.1:6379)
import { randomUUID } from 'node:crypto';
import { LiaisonClient } from '../src/client/client.js';
import { RedisEngine } from '../src/engine/redis.js';
import { AUDIENCE, chat, connect, seal, startTestGateway } from '../test/fixtures/gateway.js';
import { buildWorld, device } from '../test/fixtures/world.js';

const count = Number(process.argv[2] ?? 5_000);
const world = await buildWorld(Date.now());
const engine = new RedisEngine({
  url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  prefix: `liaison-measure:${randomUUID()}:`,
  retentionMs: 3_600_000,
});
const gateway = await startTestGateway(engine, world, { rateLimitPerMinute: 1_000_000 });
try {
  // Sealed first: a token lives a minute, sealing thousands on a busy machine takes longer.
  const envelopes = [];
  for (let i = 0; i < count; i++) {
    envelopes.push(
      await seal(world, device(world, 'KZ-KORDAI/desk-1'), ['KG-AKZHOL'], chat(`queued ${i}`)),
    );
  }
  // A fresh connection (and token) every 1,000 sends: a token lives a minute.
  for (let sent = 0; sent < count; sent += 1_000) {
    const sender = await connect(gateway, device(world, 'KZ-KORDAI/desk-1'));
    for (let at = sent; at < Math.min(count, sent + 1_000); at += 100) {
      const batch = envelopes.slice(at, at + 100);
      const answers = await Promise.all(
        batch.map((e) => sender.timeout(30_000).emitWithAck('envelope:send', e)),
      );
      // A refused send (an inbox holds at most 10,000) would leave the wait below hanging.
      const refused = answers.find((a) => !a.ok);
      if (refused) throw new Error(`send refused: ${refused.error.code} (at most 10,000 queued)`);
    }
    sender.close();
  }
  const client = new LiaisonClient({
    url: gateway.url,
    audience: AUDIENCE,
    keys: device(world, 'KG-AKZHOL/desk-1'),
    authority: world.directory.authority,
  });
  let received = 0;
  const all = new Promise<void>((done) =>
    client.on('message', () => {
      if (++received === count) done();
    }),
  );
  const started = performance.now();
  await client.start();
  await all;
  const seconds = (performance.now() - started) / 1000;
  const left = await engine.inboxes.pending('KG-AKZHOL/desk-1');
  client.stop();
  console.log(`${count} envelopes caught up in ${seconds.toFixed(2)} s; ${left} left in the inbox`);
} finally {
  await gateway.close();
  await engine.destroy();
  await engine.close();
}
