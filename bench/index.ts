// `npm run bench` — prints a table and writes bench/results/<name>.json.
// `npm run bench -- --quick` runs each scenario briefly; it fails only on a functional error.
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { benchCrypto } from './crypto.js';
import { benchHubLag } from './hub-lag.js';

const quick = process.argv.includes('--quick');
const seconds = quick ? 0.2 : 3;

const figures = await benchCrypto(seconds);
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`;
console.log(
  `Liaison crypto benchmark (${quick ? 'quick' : `${seconds} s per figure`}) on ${machine}`,
);
console.table(
  figures.map((f) => ({
    figure: f.name,
    'ops/s': Math.round(f.opsPerSecond),
    'µs/op': Number(f.microsecondsPerOp.toFixed(1)),
    ops: f.ops,
  })),
);
const lag = await benchHubLag(quick ? 200 : 6000);
console.log(
  `\nHub lag: ${lag.envelopes} envelopes (1 KiB chat, 4 keys: two devices and two hub keys) through a gateway on Redis in ${lag.sendSeconds.toFixed(1)} s ` +
    `(${Math.round(lag.acceptedPerSecond)}/s accepted); recordedAt − acceptedAt p50 ${lag.lagMs.p50} ms, ` +
    `p99 ${lag.lagMs.p99} ms, max ${lag.lagMs.max} ms; every envelope recorded exactly once: ${lag.recordedOnce}`,
);
if (!lag.recordedOnce) {
  console.error('FUNCTIONAL ERROR: the hub record lost or duplicated an envelope');
  process.exitCode = 1;
}

const dir = join(import.meta.dirname, 'results');
await mkdir(dir, { recursive: true });
const file = join(dir, 'crypto.json');
await writeFile(
  file,
  `${JSON.stringify({ at: new Date().toISOString(), machine, quick, figures }, null, 2)}\n`,
);
console.log(`written to ${file}`);
