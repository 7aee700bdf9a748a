#!/usr/bin/env node
// `npm start` runs this first: it builds (`npm run build`) only when a source changed since the
// last build, so a second start is instant. Plain JavaScript, so it runs before anything is built.
//   node scripts/build-if-stale.mjs [--root DIR] [--build COMMAND]
import { spawn } from 'node:child_process';
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

const SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

/**
 * Runs the build command in a process group of its own (a shell, npm, tsc: all of it), passing on
 * SIGINT, SIGTERM and SIGHUP to the whole group, so a start that is interrupted or fails leaves no
 * compiler running. Resolves with how it ended: `{ code }` or `{ signal }` (the one passed on).
 */
function build(command) {
  return new Promise((resolve) => {
    const child = spawn(command, {
      cwd: root,
      shell: true,
      detached: true,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    let received;
    const pass = (signal) => {
      received = signal;
      try {
        process.kill(-child.pid, signal);
      } catch {
        // the group has already ended
      }
    };
    for (const signal of Object.keys(SIGNALS)) process.on(signal, pass);
    const done = (outcome) => {
      for (const signal of Object.keys(SIGNALS)) process.off(signal, pass);
      resolve(outcome);
    };
    child.once('error', () => done({ code: 1 }));
    child.once('exit', (code, signal) => {
      // What the build left behind in its group (a watcher, a worker) goes with it.
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // nothing left
      }
      done(received ? { signal: received } : { code: code ?? (signal ? 1 : 0) });
    });
  });
}

const sources = Math.max(...INPUTS.map((input) => newest(join(root, input))));
const built = newest(STAMP);
if (built > 0 && built >= sources) {
  process.stderr.write('build is up to date (sources unchanged since the last build)\n');
} else {
  process.stderr.write(built ? 'sources changed: building\n' : 'no build yet: building\n');
  const started = Date.now();
  const result = await build(values.build);
  if (result.signal) {
    process.stderr.write(`the build was stopped (${result.signal}): nothing was started\n`);
    process.exit(128 + (SIGNALS[result.signal] ?? 1));
  }
  if (result.code !== 0) {
    process.stderr.write('the build failed: fix the errors above, then run npm start again\n');
    process.exit(1);
  }
  // Stamped with the time the build started: a source saved during the build is seen next time.
  mkdirSync(join(root, 'dist'), { recursive: true });
  writeFileSync(STAMP, `${new Date(started).toISOString()}\n`);
  utimesSync(STAMP, new Date(started), new Date(started));
}
