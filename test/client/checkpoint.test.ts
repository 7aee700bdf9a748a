import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClientEvents, LiaisonClient } from '../../src/client/client.js';
import { signCheckpoint } from '../../src/directory/checkpoint.js';
import { RedisEngine } from '../../src/engine/redis.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import { REDIS_URL } from '../fixtures/engines.js';
import { rejectionCode } from '../fixtures/forge.js';
import { AUDIENCE, startTestGateway } from '../fixtures/gateway.js';
import { buildWorld, device, type World } from '../fixtures/world.js';

// Offices keep their own copy of where CARICC's record stood, fetched through their gateway:
// a hub operator who rewrites the record later is then contradicted by a checkpoint they do not
// hold. The gateway and Redis pass checkpoints on; they can withhold one, never forge one.

const hash = (c: string) => c.repeat(64);

describe('an office keeps the hub’s signed checkpoints', () => {
  let world: World;
  let engine: RedisEngine;
  let gateway: Gateway;
  let client: LiaisonClient;
  const kept: ClientEvents['checkpoint'][] = [];

  beforeAll(async () => {
    world = await buildWorld(Date.now());
    engine = new RedisEngine({
      url: REDIS_URL,
      prefix: `liaison-test:${randomUUID()}:`,
      retentionMs: 60_000,
    });
    gateway = await startTestGateway(engine, world);
    client = new LiaisonClient({
      url: gateway.url,
      audience: AUDIENCE,
      keys: device(world, 'KZ-KORDAI/desk-1'),
      authority: world.directory.authority,
    });
    client.on('checkpoint', (c) => kept.push(c));
    await client.start();
  });
  afterAll(async () => {
    client.stop();
    await gateway.close();
    await engine.destroy();
    await engine.close();
  });

  /** What the hub (or a Redis writer) leaves on the board. */
  const post = (checkpoint: unknown) => engine.checkpoints.post(JSON.stringify(checkpoint), 1000);

  it('verifies the hub’s checkpoint and keeps the newest', async () => {
    await client.refreshCheckpoint();
    expect(client.checkpoint).toBeUndefined();
    const hub = device(world, 'CARICC/hub');
    const first = await signCheckpoint(hub, { seq: 10, hash: hash('a') }, Date.now() - 2000);
    await post(first);
    await client.refreshCheckpoint();
    expect(client.checkpoint).toEqual(first);
    expect(kept.at(-1)).toMatchObject({ seq: 10, hash: hash('a') });

    const newer = await signCheckpoint(hub, { seq: 12, hash: hash('b') }, Date.now() - 1000);
    await post(newer);
    await client.refreshCheckpoint();
    expect(client.checkpoint).toEqual(newer);

    // A gateway serving an older one (withholding the newest) changes nothing.
    await post(first);
    await client.refreshCheckpoint();
    expect(client.checkpoint).toEqual(newer);
  });

  it('refuses a checkpoint a Redis writer signed with any key but the hub’s', async () => {
    const office = device(world, 'KG-AKZHOL/desk-1');
    await post(await signCheckpoint(office, { seq: 99, hash: hash('c') }));
    expect(await rejectionCode(client.refreshCheckpoint())).toBe('CHECKPOINT_INVALID');
    expect(client.checkpoint?.payload).not.toContain(hash('c'));
  });

  it('two different records signed at one position are a rewrite: CHECKPOINT_CONFLICT', async () => {
    const hub = device(world, 'CARICC/hub');
    await post(await signCheckpoint(hub, { seq: 12, hash: hash('d') }, Date.now()));
    expect(await rejectionCode(client.refreshCheckpoint())).toBe('CHECKPOINT_CONFLICT');
  });
});
