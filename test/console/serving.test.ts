import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIRST_LOAD_BUDGET_BYTES } from '../../src/console/build.js';
import { type Stack, startStack } from './stack.js';

describe('the gateway serves the Console, and the hub lets it in', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack([]);
  }, 120_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('keeps the first load within the budget, libsodium’s WebAssembly included', () => {
    const names = stack.build.files.map((f) => f.name);
    expect(names).toEqual([
      'console.css',
      'console.js',
      'index.html',
      'locale-kk.json',
      'locale-ru.json',
      'sw.js',
    ]);
    expect(stack.build.firstLoadGzip).toBeGreaterThan(0);
    expect(stack.build.firstLoadGzip).toBeLessThanOrEqual(FIRST_LOAD_BUDGET_BYTES);
  });

  it('serves the page with a strict Content-Security-Policy: no inline script, only its own origin and the hub', async () => {
    const response = await fetch(`${stack.gateway.url}/`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('<script type="module" src="/console.js">');
    const csp = response.headers.get('content-security-policy') ?? '';
    const directives = Object.fromEntries(
      csp.split(';').map((d) => {
        const [name, ...values] = d.trim().split(/\s+/);
        return [name, values];
      }),
    );
    expect(directives['script-src']).toEqual(["'self'", "'wasm-unsafe-eval'"]);
    expect(csp).not.toContain('unsafe-inline');
    expect(directives['connect-src']).toEqual([
      "'self'",
      stack.hub.url,
      stack.hub.url.replace('http:', 'ws:'),
    ]);
    expect(directives['frame-ancestors']).toEqual(["'none'"]);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    for (const file of ['console.js', 'console.css', 'sw.js']) {
      const asset = await fetch(`${stack.gateway.url}/${file}`);
      expect(asset.status, file).toBe(200);
      expect(asset.headers.get('cache-control')).toBe('no-cache');
    }
    // The API stays where it was.
    const directory = await fetch(`${stack.gateway.url}/v1/directory?after=0`);
    expect(directory.status).toBe(200);
  });

  it('answers the Console’s origin on the hub (CORS), and no other', async () => {
    const preflight = (origin: string) =>
      fetch(`${stack.hub.url}/v1/record`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'authorization',
        },
      });
    const allowed = await preflight(stack.gateway.url);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(stack.gateway.url);
    expect(allowed.headers.get('access-control-allow-headers')).toContain('authorization');
    const other = await preflight('http://evil.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});
