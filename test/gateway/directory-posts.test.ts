import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Signed } from '../../protocol/v1/certificate.js';
import { backend, useBackend } from '../../src/crypto/current.js';
import { generateAuthorityKeys } from '../../src/crypto/keys.js';
import { signStatement } from '../../src/crypto/statement.js';
import type { Engine } from '../../src/engine/engine.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import { DIRECTORY_POSTS_PER_MINUTE } from '../../src/gateway/http.js';
import { nextStatement } from '../fixtures/directory-changes.js';
import { disposeEngine, ENGINES } from '../fixtures/engines.js';
import { startTestGateway } from '../fixtures/gateway.js';
import { buildWorld, type World } from '../fixtures/world.js';

const redis = ENGINES.find((e) => e.name === 'redis');
if (!redis) throw new Error('no redis engine');

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked by the assertions
const body = (response: Response): Promise<any> => response.json();

/** Offices the authority registers on top of the test world, so the directory is not tiny. */
const EXTRA_OFFICES = 300;

describe('directory posts cost the same however large the directory', () => {
  let world: World;
  let engine: Engine;
  let gateway: Gateway;
  let added: Signed[];
  const post = (statements: unknown) =>
    fetch(`${gateway.url}/v1/directory/statements`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ statements }),
    });
  /** Signature checks the gateway makes while `run` runs (the real crypto backend, counted). */
  const verificationsDuring = async (run: () => Promise<unknown>) => {
    const real = backend();
    let count = 0;
    useBackend({
      ...real,
      verify: (...args) => {
        count++;
        return real.verify(...args);
      },
    });
    try {
      await run();
    } finally {
      useBackend(real);
    }
    return count;
  };

  beforeAll(async () => {
    world = await buildWorld(Date.now());
    engine = redis.make();
    gateway = await startTestGateway(engine, world);
    added = [];
    for (let i = 0; i < EXTRA_OFFICES; i++) {
      added.push(
        await nextStatement(world, 'office.registered', {
          officeId: `KZ-POST${String(i).padStart(3, '0')}`,
          country: 'KZ',
          name: `BLO ${i}`,
          bcp: `Post ${i}`,
        }),
      );
    }
    for (let i = 0; i < added.length; i += 100) await gateway.sync.submit(added.slice(i, i + 100));
  });
  afterEach(() => vi.restoreAllMocks());
  afterAll(async () => {
    await gateway.close();
    await disposeEngine(engine);
  });

  it('a replay of accepted statements costs no signature check and changes nothing', async () => {
    const version = gateway.sync.directory.version;
    let response: Response | undefined;
    const checks = await verificationsDuring(async () => {
      response = await post(added.slice(0, 100));
    });
    expect(checks).toBe(0);
    expect(response?.status).toBe(200);
    expect(await body(response as Response)).toEqual({ version });
  });

  it('garbage out of place is refused before any signature check', async () => {
    const garbage = { payload: 'AAAA', signature: 'A'.repeat(86) };
    let response: Response | undefined;
    const checks = await verificationsDuring(async () => {
      response = await post([garbage]);
    });
    expect(checks).toBe(0);
    expect((await body(response as Response)).error.code).toBe('STATEMENT_OUT_OF_ORDER');
  });

  it('a forged statement in the right place costs one signature check', async () => {
    const impostor = await generateAuthorityKeys();
    const forged = await signStatement(
      impostor,
      'office.registered',
      { officeId: 'KZ-FORGED', country: 'KZ', name: 'BLO forged', bcp: 'Forged' },
      { after: world.directory.head },
    );
    let response: Response | undefined;
    const checks = await verificationsDuring(async () => {
      response = await post([forged]);
    });
    expect(checks).toBe(1);
    expect((await body(response as Response)).error.code).toBe('STATEMENT_UNTRUSTED');
  });

  it('a new statement is checked against the head alone, not the whole directory', async () => {
    const statement = await nextStatement(world, 'office.registered', {
      officeId: 'KZ-NEWPOST',
      country: 'KZ',
      name: 'BLO new',
      bcp: 'New',
    });
    let response: Response | undefined;
    const checks = await verificationsDuring(async () => {
      response = await post([statement]);
    });
    // Checked before storing, and applied from the shared log: a handful, never ~300.
    expect(checks).toBeLessThanOrEqual(4);
    expect(await body(response as Response)).toEqual({ version: world.directory.version });
  });

  it('GET /v1/directory answers 304 to a client that has the current version and head', async () => {
    const first = await fetch(`${gateway.url}/v1/directory`);
    const tag = first.headers.get('etag');
    expect(tag).toBeTruthy();
    expect((await body(first)).version).toBe(world.directory.version);
    const same = await fetch(`${gateway.url}/v1/directory`, {
      headers: { 'if-none-match': tag ?? '' },
    });
    expect(same.status).toBe(304);
    expect(await same.text()).toBe('');

    await gateway.sync.submit([
      await nextStatement(world, 'link.created', { offices: ['KG-AKZHOL', 'KZ-POST000'] }),
    ]);
    const changed = await fetch(
      `${gateway.url}/v1/directory?after=${world.directory.version - 1}`,
      {
        headers: { 'if-none-match': tag ?? '' },
      },
    );
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(tag);
    expect((await body(changed)).statements).toHaveLength(1);
  });

  it('one address posting without pause is told to slow down', async () => {
    const codes: number[] = [];
    for (let i = 0; i <= DIRECTORY_POSTS_PER_MINUTE; i++) {
      codes.push((await post(added.slice(0, 1))).status);
    }
    expect(codes.at(-1)).toBe(429);
    const refused = await post(added.slice(0, 1));
    const error = (await body(refused)).error;
    expect(error.code).toBe('RATE_LIMITED');
    expect(error.details.retryAfterMs).toBeGreaterThan(0);
  });
});
