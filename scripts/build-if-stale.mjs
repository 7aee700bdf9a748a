#!/usr/bin/env node
// `npm start` runs this first: it builds (`npm run build`) only when a source changed since the
// last build, so a second start is instant. Plain JavaScript, so it runs before anything is built.
//   node scripts/build-if-stale.mjs [--root DIR] [--build COMMAND]
import { execSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    root: { type: 'string', default: process.cwd() },
    build: { type: 'string', default: 'npm run build' },
  },
});
const root = values.root;
// What the build reads: TypeScript sources, the protocol, the Console's assets, the settings.
const INPUTS = [
  'src',
  'protocol',
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'tsconfig.build.json',
];
const STAMP = join(root, 'dist', '.build-stamp');

/** The newest modification time under `path` (0 when it does not exist). */
function newest(path) {
  let info;
  try {
    info = statSync(path);
  } catch {
    return 0;
  }
  if (!info.isDirectory()) return info.mtimeMs;
  let latest = info.mtimeMs;
  for (const entry of readdirSync(path)) latest = Math.max(latest, newest(join(path, entry)));
  return latest;
}

const sources = Math.max(...INPUTS.map((input) => newest(join(root, input))));
const built = newest(STAMP);
if (built > 0 && built >= sources) {
  process.stderr.write('build is up to date (sources unchanged since the last build)\n');
} else {
  process.stderr.write(built ? 'sources changed: building\n' : 'no build yet: building\n');
  const started = Date.now();
  try {
    execSync(values.build, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  } catch {
    process.stderr.write('the build failed: fix the errors above, then run npm start again\n');
    process.exit(1);
  }
  // Stamped with the time the build started: a source saved during the build is seen next time.
  mkdirSync(join(root, 'dist'), { recursive: true });
  writeFileSync(STAMP, `${new Date(started).toISOString()}\n`);
  utimesSync(STAMP, new Date(started), new Date(started));
}
