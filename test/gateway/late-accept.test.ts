import { randomUUID } from 'node:crypto';
import type { Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisEngine } from '../../src/engine/redis.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import { chat, connect, request, seal, startTestGateway } from '../fixtures/gateway.js';
import { metric } from '../fixtures/metrics.js';
import { startTestRedis, type TestRedis } from '../fixtures/redis-server.js';
import { buildWorld, device, type World } from '../fixtures/world.js';

interface SendAnswer {
  ok: boolean;
  seq?: number;
  duplicate?: boolean;
  error?: { code: string; details?: { reason?: string; stored?: string; retryAfterMs?: number } };
}
interface FetchAnswer {
  ok: boolean;
  items: { envelope: { header: { id: string } } }[];
}

/** Long enough for the gateway's checks after a lost answer (3 s each) on a busy machine. */
const ANSWER_WAIT_MS = 60_000;

// Redis is stopped (SIGSTOP) so its answer to the accept step comes after the gateway's command
// timeout, the situation of a gateway past the rate it sustains: the script runs once Redis
// resumes (SIGCONT), after the gateway gave up on its answer.
describe('a send whose store step answers late', () => {
  let world: World;
  let redis: TestRedis;
  let engine: RedisEngine;
  let gateway: Gateway;
  let sender: Socket;
  let reader: Socket;
  const stopped = { value: false };

  const stop = () => {
    stopped.value = true;
    redis.process.kill('SIGSTOP');
  };
  const resume = () => {
    if (stopped.value) redis.process.kill('SIGCONT');
    stopped.value = false;
  };
  const envelope = (text: string) =>
    seal(world, device(world, 'KZ-KORDAI/desk-1'), ['KG-AKZHOL'], chat(text));
  const fetchIds = async () => {
    const page = await request<FetchAnswer>(reader, 'inbox:fetch', { after: 0, limit: 100 });
    return page.items.map((item) => item.envelope.header.id);
  };

  beforeAll(async () => {
    world = await buildWorld(Date.now());
    redis = await startTestRedis();
    engine = new RedisEngine({
      url: redis.url,
      prefix: `liaison-test:${randomUUID()}:`,
      retentionMs: 60_000,
    });
    gateway = await startTestGateway(engine, world);
    sender = await connect(gateway, device(world, 'KZ-KORDAI/desk-1'));
    reader = await connect(gateway, device(world, 'KG-AKZHOL/desk-1'));
    // One send through first: the script is loaded and both sessions are set up.
    expect(
      await request<SendAnswer>(sender, 'envelope:send', await envelope('first')),
    ).toMatchObject({ ok: true, seq: 1 });
  });
  afterEach(resume);
  afterAll(async () => {
    resume();
    sender?.close();
    reader?.close();
    await gateway?.close();
    await engine?.close();
    await redis?.stop();
  });

  it('is acknowledged as accepted once Redis answers, stored once, and a resend is a duplicate', {
    timeout: 120_000,
  }, async () => {
    const late = await envelope('late');
    const timedOutBefore = engine.inboxes.late.timedOut;
    stop();
    const answer = request<SendAnswer>(sender, 'envelope:send', late, ANSWER_WAIT_MS);
    // The gateway has given up on the script's own answer: only now does Redis go on.
    await expect
      .poll(() => engine.inboxes.late.timedOut, { timeout: ANSWER_WAIT_MS, interval: 50 })
      .toBe(timedOutBefore + 1);
    resume();

    expect(await answer).toMatchObject({ ok: true, duplicate: false, seq: 2 });
    expect(engine.inboxes.late.settled).toBe(1);
    expect(await metric(gateway, 'liaison_send_late_answers_total{outcome="accepted"}')).toBe(1);
    const resent = await request<SendAnswer>(sender, 'envelope:send', late);
    expect(resent).toMatchObject({ ok: true, duplicate: true, seq: 2 });
    const ids = await fetchIds();
    expect(ids.filter((id) => id === late.header.id)).toHaveLength(1);
  });

  it('gets UNAVAILABLE saying it may be stored when Redis never answers; the resend is then accepted as a duplicate', {
    timeout: 120_000,
  }, async () => {
    const unanswered = await envelope('unanswered');
    const unknownBefore = engine.inboxes.late.unknown;
    stop();
    const answer = await request<SendAnswer>(sender, 'envelope:send', unanswered, ANSWER_WAIT_MS);
    expect(answer.ok).toBe(false);
    expect(answer.error).toMatchObject({
      code: 'UNAVAILABLE',
      details: { reason: 'redis-timeout', stored: 'unknown' },
    });
    expect(answer.error?.details?.retryAfterMs).toBeGreaterThan(0);
    expect(engine.inboxes.late.unknown).toBe(unknownBefore + 1);
    // Redis goes on and runs the step it was given: the envelope was stored after all.
    resume();
    const resent = await request<SendAnswer>(sender, 'envelope:send', unanswered, ANSWER_WAIT_MS);
    expect(resent).toMatchObject({ ok: true, duplicate: true, seq: 3 });
    const ids = await fetchIds();
    expect(ids.filter((id) => id === unanswered.header.id)).toHaveLength(1);
    expect(await metric(gateway, 'liaison_send_late_answers_total{outcome="unknown"}')).toBe(1);
  });
});
