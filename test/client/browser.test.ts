import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

describe('the client SDK in a browser bundle', () => {
  it('bundles the public entry for the browser with no Node built-ins pulled in', async () => {
    const result = await build({
      // The package's `.` entry (package.json `exports`), as a browser app imports it.
      entryPoints: [join(import.meta.dirname, '..', '..', 'src', 'index.ts')],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    expect(result.errors).toEqual([]);
    const inputs = Object.keys(result.metafile.inputs);
    // libsodium's optional `require('crypto')` is disabled in browsers (it uses WebCrypto there).
    expect(inputs.filter((i) => i.startsWith('node:'))).toEqual([]);
    expect(inputs.some((i) => i.includes('socket.io-client'))).toBe(true);
    expect(result.outputFiles?.[0]?.text).toContain('inbox:fetch');
    expect(result.outputFiles?.[0]?.text).toContain('feed:subscribe');
  });
});
