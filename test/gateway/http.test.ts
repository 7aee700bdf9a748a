import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateAuthorityKeys } from '../../src/crypto/keys.js';
import { signStatement } from '../../src/crypto/statement.js';
import { MemoryEngine } from '../../src/engine/memory.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import { nextStatement } from '../fixtures/directory-changes.js';
import { startTestGateway } from '../fixtures/gateway.js';
import { buildWorld, type World } from '../fixtures/world.js';

let world: World;
let gateway: Gateway;
beforeAll(async () => {
  world = await buildWorld(Date.now());
  gateway = await startTestGateway(new MemoryEngine({ retentionMs: 60_000 }), world);
});
afterAll(async () => {
  await gateway.close();
});

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked by the assertions
const body = (response: Response): Promise<any> => response.json();

const post = (path: string, body: string) =>
  fetch(`${gateway.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });

describe('gateway HTTP API', () => {
  it('serves the signed directory, and changes after a version', async () => {
    const all = await body(await fetch(`${gateway.url}/v1/directory`));
    expect(all.authority).toBe(world.directory.authority.keyId);
    expect(all.version).toBe(world.directory.version);
    expect(all.statements).toHaveLength(world.directory.version);
    const tail = await body(await fetch(`${gateway.url}/v1/directory?after=${all.version - 1}`));
    expect(tail.statements).toEqual([all.statements.at(-1)]);
    const bad = await fetch(`${gateway.url}/v1/directory?after=-3`);
    expect(bad.status).toBe(400);
    expect((await body(bad)).error.code).toBe('VALIDATION_FAILED');
  });

  it('takes statements signed by the authority, once, and refuses anyone else’s with a code', async () => {
    const link = await nextStatement(world, 'link.created', {
      offices: ['KZ-KORDAI', 'UZ-OYBEK'],
    });
    const ok = await post('/v1/directory/statements', JSON.stringify({ statements: [link] }));
    expect(ok.status).toBe(200);
    const version = (await body(ok)).version;
    const again = await post('/v1/directory/statements', JSON.stringify({ statements: [link] }));
    expect(await body(again)).toEqual({ version });

    const impostor = await generateAuthorityKeys();
    const forged = await signStatement(
      impostor,
      'link.created',
      { offices: ['KG-AKZHOL', 'UZ-OYBEK'] },
      { after: world.directory.head },
    );
    const refused = await post(
      '/v1/directory/statements',
      JSON.stringify({ statements: [forged] }),
    );
    expect(refused.status).toBe(403);
    expect((await body(refused)).error.code).toBe('STATEMENT_UNTRUSTED');

    const conflict = await signStatement(
      world.authority,
      'link.created',
      { offices: ['KZ-KORDAI', 'UZ-OYBEK'] },
      { after: world.directory.head },
    );
    const contradicted = await post(
      '/v1/directory/statements',
      JSON.stringify({ statements: [conflict] }),
    );
    expect(contradicted.status).toBe(409);
    expect((await body(contradicted)).error.code).toBe('STATEMENT_CONFLICT');
  });

  it('answers bad bodies with codes', async () => {
    const notJson = await post('/v1/directory/statements', '{nope');
    expect(notJson.status).toBe(400);
    expect((await body(notJson)).error.code).toBe('VALIDATION_FAILED');
    const wrongShape = await post(
      '/v1/directory/statements',
      JSON.stringify({ statements: 'all' }),
    );
    expect((await body(wrongShape)).error.code).toBe('VALIDATION_FAILED');
    const huge = await post(
      '/v1/directory/statements',
      JSON.stringify({ statements: ['x'.repeat(2_000_000)] }),
    );
    expect(huge.status).toBe(413);
    expect((await body(huge)).error.code).toBe('PAYLOAD_TOO_LARGE');
    const missing = await fetch(`${gateway.url}/v2/nothing`);
    expect((await body(missing)).error.code).toBe('NOT_FOUND');
  });

  it('reports health, readiness and Prometheus metrics', async () => {
    expect((await fetch(`${gateway.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${gateway.url}/readyz`);
    expect(await body(ready)).toMatchObject({ status: 'ready', engine: 'memory' });
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(metrics).toContain('liaison_connections');
    expect(metrics).toContain('liaison_inbox_pending');
    expect(metrics).toContain('liaison_send_duration_seconds');
    expect(metrics).toContain('liaison_refused_total{code="STATEMENT_UNTRUSTED"} 1');
  });
});
