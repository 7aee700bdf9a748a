// `npm run bench` — prints a table and writes bench/results/<name>.json.
// `npm run bench -- --quick` runs each scenario briefly; it fails only on a functional error.
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { benchCrypto } from './crypto.js';

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
const dir = join(import.meta.dirname, 'results');
await mkdir(dir, { recursive: true });
const file = join(dir, 'crypto.json');
await writeFile(
  file,
  `${JSON.stringify({ at: new Date().toISOString(), machine, quick, figures }, null, 2)}\n`,
);
console.log(`written to ${file}`);
