// Terminal tables: every figure for the plain relay and for Liaison, and Liaison / baseline.
import type { Figure } from './crypto.js';
import type { ConnectionsRun } from './scenarios/connections.js';
import type { DirectoryRun } from './scenarios/directory-scale.js';
import type { HubAloneRun } from './scenarios/hub-alone.js';
import type { LatencyRun } from './scenarios/latency.js';
import type { ThroughputRun } from './scenarios/throughput.js';
import { ratio } from './stats.js';
import type { CodecFigure, WireBytes } from './wire.js';

const title = (text: string) => console.log(`\n${text}`);
const pairUp = <T extends { target: string }>(runs: readonly T[], key: (run: T) => unknown) => {
  const groups = new Map<unknown, { baseline?: T; liaison?: T }>();
  for (const run of runs) {
    const group = groups.get(key(run)) ?? {};
    group[run.target as 'baseline' | 'liaison'] = run;
    groups.set(key(run), group);
  }
  return [...groups.values()];
};

export function printCrypto(figures: readonly Figure[]) {
  title('Envelope cryptography (one core)');
  console.table(
    figures.map((f) => ({
      figure: f.name,
      'ops/s': Math.round(f.opsPerSecond),
      'µs/op': Number(f.microsecondsPerOp.toFixed(1)),
    })),
  );
}

export function printThroughput(runs: readonly ThroughputRun[]) {
  title(
    '1. Relay throughput (1 KiB chat, 3 recipient keys, 4 in flight per sender) and 5. hub lag',
  );
  console.table(
    pairUp(runs, (r) => r.pairs).map(({ baseline: b, liaison: l }) => ({
      pairs: l?.pairs ?? b?.pairs,
      'baseline accepted/s': b?.acceptedPerSecond,
      'liaison accepted/s': l?.acceptedPerSecond,
      'ratio accepted': ratio(l?.acceptedPerSecond ?? 0, b?.acceptedPerSecond ?? 0),
      'baseline delivered/s': b?.deliveredPerSecond,
      'liaison delivered/s': l?.deliveredPerSecond,
      'ratio delivered': ratio(l?.deliveredPerSecond ?? 0, b?.deliveredPerSecond ?? 0),
      'server CPU ms/env b | l': `${b?.serverCpuMsPerEnvelope} | ${l?.serverCpuMsPerEnvelope}`,
      'hub CPU ms/env': l?.hubCpuMsPerEnvelope,
      'Redis CPU ms/env b | l': `${b?.redisCpuMsPerEnvelope} | ${l?.redisCpuMsPerEnvelope}`,
      'machine CPU ms/env b | l': `${b?.machineCpuMsPerEnvelope} | ${l?.machineCpuMsPerEnvelope}`,
      'recorded/s (liaison)': l?.recordedPerSecond,
      'lost | dup | cut (liaison)': `${l?.lost} | ${l?.duplicated} | ${l?.cuts}`,
      'hub lag p50 | p99 ms': l?.hubLagMs ? `${l.hubLagMs.p50} | ${l.hubLagMs.p99}` : '-',
    })),
  );
}

/** Where Redis's time goes per envelope (INFO commandstats): the costliest commands of each run. */
export function printRedisCommands(runs: readonly ThroughputRun[]) {
  title(
    'Redis per accepted envelope: calls | CPU µs of the costliest commands (Lua inner calls also count under EVALSHA)',
  );
  const rows: Record<string, Record<string, string>> = {};
  for (const run of runs) {
    const name = `${run.target} ${run.pairs}${run.offeredPerSecond ? ` @${run.offeredPerSecond}/s` : ''}`;
    rows[name] = Object.fromEntries(
      Object.entries(run.redisCommands)
        .slice(0, 8)
        .map(([command, c]) => [command, `${c.calls} | ${c.usec}`]),
    );
  }
  console.table(rows);
}

export function printLatency(runs: readonly LatencyRun[]) {
  title('2. Send-to-receive latency across two instances sharing Redis (ms)');
  console.table(
    pairUp(runs, (r) => r.perSecond).map(({ baseline: b, liaison: l }) => ({
      'rate/s': l?.perSecond ?? b?.perSecond,
      'achieved b | l': `${b?.achievedPerSecond} | ${l?.achievedPerSecond}`,
      'baseline p50 | p99 | p99.9': b
        ? `${b.latencyMs.p50} | ${b.latencyMs.p99} | ${b.latencyMs.p999}`
        : '-',
      'liaison p50 | p99 | p99.9': l
        ? `${l.latencyMs.p50} | ${l.latencyMs.p99} | ${l.latencyMs.p999}`
        : '-',
      'ratio p99': ratio(l?.latencyMs.p99 ?? 0, b?.latencyMs.p99 ?? 0),
      'lost | dup (liaison)': `${l?.lost} | ${l?.duplicated}`,
    })),
  );
}

export function printConnections(runs: readonly ConnectionsRun[]) {
  title('3. Idle connections held by one server process, and 4. reconnect storm');
  const b = runs.find((r) => r.target === 'baseline');
  const l = runs.find((r) => r.target === 'liaison');
  console.table({
    'connected devices': { baseline: b?.connected, liaison: l?.connected },
    'seconds to connect all': { baseline: b?.connectSeconds, liaison: l?.connectSeconds },
    'server RSS before → after (MiB)': {
      baseline: `${b?.rssBeforeMiB} → ${b?.rssAfterMiB}`,
      liaison: `${l?.rssBeforeMiB} → ${l?.rssAfterMiB}`,
    },
    'KiB per connection': {
      baseline: b?.kibPerConnection,
      liaison: l?.kibPerConnection,
      ratio: ratio(l?.kibPerConnection ?? 0, b?.kibPerConnection ?? 0),
    },
    'storm: devices reconnecting at once': {
      baseline: b?.storm.devices,
      liaison: l?.storm.devices,
    },
    'storm: queued envelopes per device': {
      baseline: '0 (keeps nothing)',
      liaison: l?.storm.queuedPerDevice,
    },
    'storm: seconds until all caught up': {
      baseline: b?.storm.seconds,
      liaison: l?.storm.seconds,
      ratio: ratio(l?.storm.seconds ?? 0, b?.storm.seconds ?? 0),
    },
    'storm: lost | duplicated': {
      baseline: '-',
      liaison: `${l?.storm.lost} | ${l?.storm.duplicated}`,
    },
    'storm: Redis commands | CPU s': {
      baseline: `${b?.storm.redisCommands} | ${b?.storm.redisCpuSeconds}`,
      liaison: `${l?.storm.redisCommands} | ${l?.storm.redisCpuSeconds}`,
    },
  });
}

export function printHubAlone(runs: readonly HubAloneRun[]) {
  title('6. The hub alone: verify + open + chain + append, envelopes per CPU second (one core)');
  console.table(runs);
}

export function printSustained(runs: readonly ThroughputRun[]) {
  title('8. Sustained: Liaison paced, the hub recording beside it (lag p99 must stay < 1 s)');
  console.table(
    runs.map((r) => ({
      'offered/s': r.offeredPerSecond,
      'accepted/s': r.acceptedPerSecond,
      'recorded/s (to last entry)': r.recordedPerSecond,
      'hub lag p50 ms': r.hubLagMs?.p50,
      'hub lag p99 ms': r.hubLagMs?.p99,
      'CPU ms/env gateway, hub, Redis, load': `${r.serverCpuMsPerEnvelope}, ${r.hubCpuMsPerEnvelope}, ${r.redisCpuMsPerEnvelope}, ${r.loadCpuMsPerEnvelope}`,
      'lost / dup / cut': `${r.lost} / ${r.duplicated} / ${r.cuts}`,
    })),
  );
}

export function printDirectory(runs: readonly DirectoryRun[]) {
  title('7. Directory scaling: `liaison gateway` from a directory file on an empty Redis');
  console.table(runs);
}

export function printWire(wire: { bytes: readonly WireBytes[]; codec: readonly CodecFigure[] }) {
  title(
    'Bytes on the wire per chat (3 recipient keys, padded; Engine.IO packets + WebSocket headers)',
  );
  console.table(
    wire.bytes.map((w) => ({
      text: w.textBytes,
      'padded plaintext': w.plaintextPaddedBytes,
      'json send': w.json.sendWebSocketBytes,
      'compact send': w.compact.sendWebSocketBytes,
      'json push': w.json.pushWebSocketBytes,
      'compact push': w.compact.pushWebSocketBytes,
      'compact / json': w.ratio,
    })),
  );
  title('Envelope encoding on one core (1 KiB chat)');
  console.table(wire.codec.map((c) => ({ figure: c.name, 'µs/op': c.microsecondsPerOp })));
}
