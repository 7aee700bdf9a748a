import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Signed } from '../../protocol/v1/certificate.js';
import { type DeviceKeys, generateAuthorityKeys } from '../../src/crypto/keys.js';
import { signStatement } from '../../src/crypto/statement.js';
import type { Directory } from '../../src/directory/directory.js';
import type { Engine } from '../../src/engine/engine.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import { enroll, revoke, rotate } from '../fixtures/directory-changes.js';
import { disposeEngine, ENGINES, REDIS_URL } from '../fixtures/engines.js';
import { signedHead, startTestGateway } from '../fixtures/gateway.js';
import { buildWorld, device, type World } from '../fixtures/world.js';

// A gateway keeps its directory without the statements' texts (they are in the shared log) and
// serves them from the log. What a client gets must be what the gateway served when it kept them:
// the same bytes, built the old way from a directory that keeps its statements.

const redis = ENGINES.find((e) => e.name === 'redis');
if (!redis) throw new Error('no redis engine');

/** GET /v1/directory as the gateway answered it when it kept its statements (the old route). */
const servedTheOldWay = (directory: Directory, after: number, head?: Signed) =>
  JSON.stringify({
    authority: directory.authority.keyId,
    version: directory.version,
    statements: directory
      .statements(after)
      .map((statement, i) => ({ version: after + i + 1, statement })),
    ...(head ? { head } : {}),
  });

describe('the directory a gateway serves from the shared log', () => {
  let world: World;
  let engine: Engine;
  let gateway: Gateway;
  let head: Signed;
  let rotated: DeviceKeys;

  beforeAll(async () => {
    world = await buildWorld(Date.now());
    // Every kind of change, so every shape of record is kept compactly and served back.
    await enroll(world, 'KZ-KORDAI/spare-1');
    rotated = await rotate(world, device(world, 'KG-AKZHOL/duty-1'), Date.now() - 1000);
    await revoke(world, 'KZ-KORDAI/duty-1', undefined, { reason: 'lost' });
    await revoke(world, 'KG-AKZHOL/desk-1', device(world, 'KG-AKZHOL/desk-1').keyId);
    engine = redis.make();
    gateway = await startTestGateway(engine, world);
    head = await signedHead(world);
  });
  afterAll(async () => {
    await gateway.close();
    await disposeEngine(engine);
  });

  it('is byte for byte what a directory keeping its statements served, whole and after any version', async () => {
    for (const after of [0, 1, 5, world.directory.version - 1, world.directory.version]) {
      const response = await fetch(`${gateway.url}/v1/directory?after=${after}`);
      expect(response.status).toBe(200);
      const served = await response.text();
      const sync = gateway.sync;
      expect(served).toBe(servedTheOldWay(world.directory, after, sync.head ?? head));
    }
  });

  it('answers every question as a directory keeping its statements does', () => {
    const compact = gateway.sync.directory;
    const full = world.directory;
    const now = Date.now();
    expect(compact.head).toEqual(full.head);
    for (let v = 0; v <= full.version; v++)
      expect(compact.positionAt(v)).toEqual(full.positionAt(v));
    expect(compact.positionAt(full.version + 1)).toBeUndefined();
    expect(compact.recipientKeys(['KG-AKZHOL'], now)).toEqual(
      full.recipientKeys(['KG-AKZHOL'], now),
    );
    expect(compact.linkedOffices('KZ-KORDAI')).toEqual(full.linkedOffices('KZ-KORDAI'));
    for (const { deviceId: id, keyId } of [...Object.values(world.devices), rotated]) {
      expect(compact.currentKeyIdOf(id)).toBe(full.currentKeyIdOf(id));
      expect(compact.certificateOf(id, keyId)).toEqual(full.certificateOf(id, keyId));
      const outcome = (d: Directory) => {
        try {
          return d.usableKey(id, keyId, now);
        } catch (error) {
          return (error as { code: string }).code;
        }
      };
      expect(outcome(compact)).toEqual(outcome(full));
    }
    expect(() => compact.statements()).toThrow(TypeError);
  });

  it('a statement not signed by the authority is still refused with STATEMENT_UNTRUSTED', async () => {
    const other = await generateAuthorityKeys();
    const forged = await signStatement(
      other,
      'office.registered',
      { officeId: 'TJ-PANJ', country: 'TJ', name: 'Panji Poyon', bcp: 'Panji Poyon' },
      { after: world.directory.head },
    );
    const response = await fetch(`${gateway.url}/v1/directory/statements`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ statements: [forged] }),
    });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
      'STATEMENT_UNTRUSTED',
    );
    expect(gateway.sync.directory.version).toBe(world.directory.version);
  });

  it('a log changed under the gateway is not served: UNAVAILABLE, never a statement it did not verify', async () => {
    const prefix = (engine as unknown as { keys: { directory: string } }).keys.directory;
    const client = new Redis(REDIS_URL);
    try {
      const original = (await client.lindex(prefix, 2)) as string;
      const other = (await client.lindex(prefix, 3)) as string;
      await client.lset(prefix, 2, other);
      const response = await fetch(`${gateway.url}/v1/directory?after=1`);
      expect(response.status).toBe(503);
      const refusal = (await response.json()) as {
        error: { code: string; details: { reason: string; version: number } };
      };
      expect(refusal.error.code).toBe('UNAVAILABLE');
      expect(refusal.error.details).toMatchObject({ reason: 'directory-log-changed', version: 3 });
      await client.lset(prefix, 2, original);
      expect((await fetch(`${gateway.url}/v1/directory?after=1`)).status).toBe(200);
      // The log cut short: the statements it lost are not served either.
      const last = (await client.rpop(prefix)) as string;
      const cut = await fetch(`${gateway.url}/v1/directory?after=1`);
      expect(cut.status).toBe(503);
      expect(((await cut.json()) as typeof refusal).error.details.reason).toBe(
        'directory-log-changed',
      );
      await client.rpush(prefix, last);
      expect((await fetch(`${gateway.url}/v1/directory`)).status).toBe(200);
    } finally {
      await client.quit();
    }
  });
});
