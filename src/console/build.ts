import { createHash } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type Plugin } from 'esbuild';
import { kk } from './app/locales/kk.js';
import { ru } from './app/locales/ru.js';

/** What a first visit downloads, gzip-compressed (libsodium's WebAssembly included), at most. */
export const FIRST_LOAD_BUDGET_BYTES = 300 * 1024;

const here = import.meta.dirname;
const app = join(here, 'app');
export const DEFAULT_OUTDIR = join(here, '..', '..', 'dist', 'console');

/**
 * zod re-exports every one of its ~50 locales as a namespace, which bundlers cannot drop (about
 * 200 KiB minified). The Console shows zod's messages to nobody, so only English stays; and
 * what zod keeps for tools alone goes too.
 */
const zodEnglishOnly: Plugin = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /locales\/index\.js$/ }, (args) =>
      args.importer.includes(`${join('node_modules', 'zod')}`)
        ? {
            path: join(args.resolveDir, args.path.replace(/index\.js$/, 'en.js')),
            namespace: 'zod-locales',
          }
        : undefined,
    );
    // z.fromJSONSchema (a JSON Schema to zod converter, ~12 KiB minified) is for tools, not the Console.
    b.onResolve({ filter: /from-json-schema\.js$/ }, (args) =>
      args.importer.includes(`${join('node_modules', 'zod')}`)
        ? { path: 'from-json-schema', namespace: 'zod-unused' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-unused' }, () => ({
      contents:
        'export function fromJSONSchema() { throw new Error("z.fromJSONSchema is not in the Console"); }',
      loader: 'js',
    }));
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(args.path)};`,
      loader: 'js',
      resolveDir: join(args.path, '..'),
    }));
  },
};

export interface BuildReport {
  readonly outdir: string;
  readonly files: { name: string; bytes: number; gzip: number }[];
  /** index.html, console.js and console.css, and the largest language file (a non-English user's), gzip. */
  readonly firstLoadGzip: number;
}

/**
 * Builds the Console into `outdir`: the app (Preact, the SDK, libsodium) as one ES module, its
 * stylesheet, the page and the service worker that caches them. Fails over the budget.
 *
 * @example const report = await buildConsole(); // dist/console
 */
export async function buildConsole(outdir = DEFAULT_OUTDIR): Promise<BuildReport> {
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  await build({
    entryPoints: { console: join(app, 'main.tsx') },
    outdir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    logLevel: 'warning',
    plugins: [zodEnglishOnly],
  });
  await copyFile(join(app, 'static', 'index.html'), join(outdir, 'index.html'));
  await copyFile(join(app, 'static', 'console.css'), join(outdir, 'console.css'));
  // Languages other than English, fetched when chosen (i18n.ts): a first visit loads one.
  const locales: string[] = [];
  for (const [code, strings] of Object.entries({ ru, kk })) {
    const name = `locale-${code}.json`;
    await writeFile(join(outdir, name), JSON.stringify(strings));
    locales.push(name);
  }
  const shell = ['console.js', 'console.css', ...locales];
  const hash = createHash('sha256');
  for (const name of ['index.html', ...shell]) hash.update(await readFile(join(outdir, name)));
  await build({
    entryPoints: { sw: join(app, 'sw.ts') },
    outdir,
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    define: {
      BUILD: JSON.stringify({ version: hash.digest('hex').slice(0, 16), files: shell }),
    },
    logLevel: 'warning',
  });

  const files: BuildReport['files'] = [];
  for (const name of (await readdir(outdir)).sort()) {
    const path = join(outdir, name);
    if (!(await stat(path)).isFile()) continue;
    const content = await readFile(path);
    files.push({ name, bytes: content.length, gzip: gzipSync(content, { level: 9 }).length });
  }
  const entry = ['index.html', 'console.js', 'console.css'];
  const gzipOf = (name: string) => files.find((f) => f.name === name)?.gzip ?? 0;
  const firstLoadGzip =
    entry.reduce((sum, name) => sum + gzipOf(name), 0) +
    Math.max(0, ...locales.map((name) => gzipOf(name)));
  return { outdir, files, firstLoadGzip };
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const report = await buildConsole();
  // On stderr: the build runs inside `npm pack --json`, whose stdout must stay JSON.
  for (const f of report.files)
    console.error(`  ${f.name.padEnd(12)} ${kib(f.bytes).padStart(10)}  gzip ${kib(f.gzip)}`);
  const verdict = report.firstLoadGzip <= FIRST_LOAD_BUDGET_BYTES ? 'within' : 'OVER';
  console.error(
    `console built in ${relative(process.cwd(), report.outdir)}: first load ${kib(report.firstLoadGzip)} gzip, ${verdict} the ${kib(FIRST_LOAD_BUDGET_BYTES)} budget`,
  );
  if (verdict === 'OVER') process.exitCode = 1;
}
