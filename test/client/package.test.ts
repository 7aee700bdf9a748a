import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const run = promisify(execFile);

interface Manifest {
  types: string;
  bin: Record<string, string>;
  exports: Record<string, string | Record<string, string>>;
}

// What `npm publish` would upload, as npm itself lists it (the `prepare` build runs first).
describe('the npm package', () => {
  let files: string[];
  let manifest: Manifest;

  beforeAll(async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json'], {
      cwd: root,
      maxBuffer: 16 * 1024 * 1024,
    });
    const [pack] = JSON.parse(stdout) as { files: { path: string }[] }[];
    files = (pack?.files ?? []).map((f) => f.path);
    manifest = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as Manifest;
  }, 300_000);

  it('holds every entry an integrator imports, with its types', () => {
    const targets = Object.entries(manifest.exports)
      .filter(([name]) => !name.includes('*'))
      .flatMap(([, target]) => (typeof target === 'string' ? [target] : Object.values(target)));
    expect(targets).toEqual(
      expect.arrayContaining([
        './dist/src/index.js',
        './dist/src/index.d.ts',
        './dist/src/node.js',
      ]),
    );
    for (const target of [...targets, manifest.types, ...Object.values(manifest.bin)])
      expect(files).toContain(target.replace(/^\.\//, ''));
    // Everything the entries import is compiled in, declarations beside the code.
    const code = files.filter((f) => f.startsWith('dist/') && f.endsWith('.js'));
    expect(code.length).toBeGreaterThan(20);
    for (const js of code) expect(files).toContain(js.replace(/\.js$/, '.d.ts'));
  });

  it('holds the README and the protocol an integrator in another language reads', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'README.md',
        'package.json',
        'protocol/PROTOCOL.md',
        'protocol/asyncapi.yaml',
        'protocol/json-schema/Envelope.json',
        'protocol/json-schema/RecordEntry.json',
      ]),
    );
  });

  it('holds nothing private: no keys, tests, benchmarks, CI, sources or source maps', () => {
    const private_ = files.filter(
      (f) =>
        /^(keys|test|bench|\.ci|scripts|examples|src|node_modules|deploy)\//.test(f) ||
        /^dist\/(test|bench|scripts|examples)\//.test(f) ||
        /\.(key|map|ts)$/.test(f.replace(/\.d\.ts$/, '')) ||
        /(^|\/)\.env/.test(f),
    );
    expect(private_).toEqual([]);
  });
});
