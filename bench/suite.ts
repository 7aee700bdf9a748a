// The benchmark suite (run by bench/index.ts): envelope cryptography, the hub alone, relay
// throughput with the hub's lag and every process's CPU, a sustained paced run the hub must keep
// up with, latency across two instances, idle connections, a reconnect storm, and the directory's
// start at 1k/16k/100k devices, bytes on the wire per chat in the JSON and the compact encoding;
// relay figures against a plain Socket.IO relay in the same run.
// Prints tables and writes bench/results/bench.json.
// `npm run bench -- --quick` runs every scenario small (under a minute); it fails only on a
// functional error (an envelope lost, duplicated or refused), never on a timing.
// `--only=crypto,wire,hub,throughput,sustained,latency,connections,directory` picks scenarios.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { stopEverything } from './children.js';
import { benchCrypto } from './crypto.js';
import { Agent } from './processes.js';
import {
  printConnections,
  printCrypto,
  printDirectory,
  printHubAlone,
  printLatency,
  printRedisCommands,
  printSustained,
  printThroughput,
  printWire,
} from './report.js';
import { connections } from './scenarios/connections.js';
import type { Bench } from './scenarios/context.js';
import { directoryScale } from './scenarios/directory-scale.js';
import { hubAlone } from './scenarios/hub-alone.js';
import { latency } from './scenarios/latency.js';
import { sustained, throughput } from './scenarios/throughput.js';
import { benchWire } from './wire.js';
import { writeWorld } from './world.js';

const quick = process.argv.includes('--quick');
const only = process.argv
  .find((a) => a.startsWith('--only='))
  ?.slice(7)
  .split(',');
const runs = (name: string) => !only || only.includes(name);

/** How big each scenario is; the quick plan only proves every path works. */
const plan = quick
  ? {
      shape: { pairs: 10, idleOffices: 50 },
      throughput: [{ pairs: 10, envelopes: 400 }],
      latency: { pairs: 10, rates: [{ perSecond: 200, seconds: 1 }] },
      stormOffices: 25,
      cryptoSeconds: 0.2,
      hubEnvelopes: 200,
      sustained: { pairs: 10, rates: [200], seconds: 2 },
      directoryDevices: [300],
    }
  : {
      shape: { pairs: 500, idleOffices: 5000 },
      throughput: [
        { pairs: 50, envelopes: 20_000 },
        { pairs: 500, envelopes: 20_000 },
      ],
      latency: {
        pairs: 50,
        rates: [
          { perSecond: 1000, seconds: 10 },
          { perSecond: 5000, seconds: 4 },
        ],
      },
      stormOffices: 2500,
      cryptoSeconds: 3,
      hubEnvelopes: 3000,
      sustained: { pairs: 50, rates: [1500, 2000, 2500, 3000, 3500, 4000], seconds: 10 },
      directoryDevices: [1000, 16_000, 100_000],
    };

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
console.log(`Liaison benchmarks (${quick ? 'quick' : 'full'}) on ${machine}\n`);
const results: Record<string, unknown> = { at: new Date().toISOString(), machine, quick, plan };

if (runs('crypto')) {
  results.crypto = await benchCrypto(plan.cryptoSeconds);
  printCrypto(results.crypto as Awaited<ReturnType<typeof benchCrypto>>);
}

if (runs('wire')) {
  results.wire = await benchWire(plan.cryptoSeconds);
  printWire(results.wire as Awaited<ReturnType<typeof benchWire>>);
}

const functionalErrors: string[] = [];

if (runs('hub')) {
  results.hubAlone = await hubAlone(plan.hubEnvelopes, functionalErrors);
  printHubAlone(results.hubAlone as Awaited<ReturnType<typeof hubAlone>>);
}

const dir = await mkdtemp(join(tmpdir(), 'liaison-bench-'));
const agents = ['send-1', 'send-2', 'receive-1', 'receive-2'].map((name) => new Agent(name));
try {
  const bench: Bench = {
    paths: await writeWorld(dir, plan.shape),
    shape: plan.shape,
    senders: agents.slice(0, 2),
    receivers: agents.slice(2),
    quick,
    functionalErrors,
  };
  await Promise.all(agents.map((a) => a.ask({ type: 'init', worldFile: bench.paths.world })));
  if (runs('throughput')) {
    const out = [];
    for (const t of plan.throughput) out.push(...(await throughput(bench, t.pairs, t.envelopes)));
    results.throughput = out;
    printThroughput(out);
    printRedisCommands(out);
  }
  if (runs('sustained')) {
    const { pairs, rates, seconds } = plan.sustained;
    const out = await sustained(bench, pairs, rates, seconds);
    results.sustained = out;
    printSustained(out);
    printRedisCommands(out);
  }
  if (runs('latency')) {
    const out = [];
    for (const r of plan.latency.rates) {
      out.push(...(await latency(bench, plan.latency.pairs, r.perSecond, r.seconds)));
    }
    results.latency = out;
    printLatency(out);
  }
  if (runs('connections')) {
    const out = await connections(bench, plan.stormOffices);
    results.connections = out;
    printConnections(out);
  }
  if (runs('directory')) {
    const out = await directoryScale(plan.directoryDevices);
    results.directory = out;
    printDirectory(out);
  }
} finally {
  await Promise.all(agents.map((a) => a.stop()));
  await stopEverything();
  await rm(dir, { recursive: true, force: true });
}

results.functionalErrors = functionalErrors;
const out = join(import.meta.dirname, 'results');
await mkdir(out, { recursive: true });
const file = join(out, quick ? 'bench-quick.json' : 'bench.json');
await writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
console.log(`\nwritten to ${file}`);
for (const error of functionalErrors) console.error(`FUNCTIONAL ERROR: ${error}`);
process.exit(functionalErrors.length > 0 ? 1 : 0);
