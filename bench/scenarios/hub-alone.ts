// Scenario 6: the hub alone. Real envelopes (1 KiB chat, three wrapped keys, the hub's sealed to
// its prekey of the day as a client seals it) are put on the hub stream of a fresh Redis prefix
// the way the gateway's accept script puts them, then one recorder in this process records them
// all: verify, open as the hub (with its prekey store), chain, append. The figure is envelopes
// recorded per CPU second of this process (per core), once on each crypto backend, each after a
// warm-up round that is not counted (so neither backend is measured on code not yet optimised).
import type { CryptoBackend } from '../../src/crypto/backend.js';
import { backend, useBackend } from '../../src/crypto/current.js';
import { loadNativeBackend } from '../../src/crypto/native-backend.js';
import { pickPrekey } from '../../src/crypto/prekey.js';
import { PrekeyStore } from '../../src/crypto/prekey-store.js';
import { wasmBackend } from '../../src/crypto/wasm-backend.js';
import { sealEnvelope } from '../../src/envelope/seal.js';
import { Recorder } from '../../src/hub/recorder.js';
import { HubStore } from '../../src/hub/store.js';
import { buildWorld, device } from '../../test/fixtures/world.js';
import { REDIS_URL } from '../processes.js';
import { dropPrefix, redisCounters, round } from '../stats.js';
import { runPrefix } from './context.js';

export interface HubAloneRun {
  readonly backend: CryptoBackend['name'];
  readonly envelopes: number;
  readonly recorded: number;
  /** Envelopes recorded per CPU second of the hub (its process: crypto, JSON, ioredis). */
  readonly perCoreSecond: number;
  readonly wallPerSecond: number;
  readonly hubCpuMsPerEnvelope: number;
  readonly redisCpuMsPerEnvelope: number;
}

const CHAT_1KIB = 'Convoy of three trucks heading to Ak-Zhol, plates on file. '
  .repeat(18)
  .slice(0, 1024);

const cpuNow = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};

export async function hubAlone(envelopes: number, functionalErrors: string[]) {
  const now = Date.now();
  const world = await buildWorld(now);
  const sender = device(world, 'KZ-KORDAI/desk-1');
  const hubKeys = device(world, 'CARICC/hub');
  const prekeys = PrekeyStore.open(hubKeys, undefined);
  const hub = world.directory.usableKey(hubKeys.deviceId, hubKeys.keyId, now);
  const prekey = pickPrekey(prekeys.published(now), hub, now);
  const recipients = [
    ...world.directory
      .recipientKeys(['KG-AKZHOL'], now)
      .filter((k) => k.deviceId !== hubKeys.deviceId),
    { ...hub, prekeyId: prekey.prekeyId, encryptionPublicKey: prekey.publicKeyBytes },
  ];
  const warmUp = Math.min(500, Math.ceil(envelopes / 4));
  // Sealed once, before any clock: each item differs (its own id, nonce and keys).
  const sealed = [];
  for (let i = 0; i < envelopes + warmUp; i++) {
    sealed.push(
      await sealEnvelope({
        sender,
        to: ['KG-AKZHOL'],
        body: { type: 'chat', text: CHAT_1KIB },
        recipients,
        createdAt: now,
        counter: i + 1,
        directory: world.directory.head,
      }),
    );
  }
  const loaded = loadNativeBackend();
  const backends = [wasmBackend, ...(loaded.backend ? [loaded.backend] : [])];
  const before = backend();
  const runs: HubAloneRun[] = [];
  try {
    for (const candidate of backends) {
      useBackend(candidate);
      const context = { world, prekeys };
      await recordAll(candidate, sealed.slice(envelopes), context, []);
      runs.push(await recordAll(candidate, sealed.slice(0, envelopes), context, functionalErrors));
    }
  } finally {
    useBackend(before);
  }
  return runs;
}

async function recordAll(
  candidate: CryptoBackend,
  sealed: readonly object[],
  { world, prekeys }: { world: Awaited<ReturnType<typeof buildWorld>>; prekeys: PrekeyStore },
  functionalErrors: string[],
): Promise<HubAloneRun> {
  const prefix = runPrefix('hub-alone');
  const store = new HubStore(REDIS_URL, prefix);
  try {
    // What the gateway's accept script writes: id, meta, envelope (src/engine/redis).
    const { Redis } = await import('ioredis');
    const writer = new Redis(REDIS_URL);
    try {
      const pipeline = writer.pipeline();
      for (const envelope of sealed as { header: Record<string, unknown> }[]) {
        const text = JSON.stringify(envelope);
        const header = envelope.header as {
          id: string;
          kind: string;
          sender: { deviceId: string };
          to: string[];
          createdAt: number;
        };
        const meta = {
          id: header.id,
          kind: header.kind,
          sender: header.sender.deviceId,
          from: header.sender.deviceId.split('/')[0],
          to: header.to,
          createdAt: header.createdAt,
          size: Buffer.byteLength(text),
        };
        pipeline.xadd(
          `${prefix}hub`,
          '*',
          'id',
          header.id,
          'meta',
          JSON.stringify(meta),
          'envelope',
          text,
        );
      }
      await pipeline.exec();
    } finally {
      writer.disconnect();
    }
    await store.stream.ensureGroup('hub');
    const recorder = new Recorder({
      store,
      directory: () => world.directory,
      hubKeys: device(world, 'CARICC/hub'),
      prekeys,
      deadlines: { FLASH: 60_000, IMMEDIATE: 120_000 },
      group: 'hub',
      consumer: 'bench',
      refresh: async () => {},
      onError: (error) => {
        throw error;
      },
    });
    const redisBefore = await redisCounters();
    const cpuBefore = cpuNow();
    const start = performance.now();
    let handled = 0;
    while (handled < sealed.length) {
      const n = await recorder.drain();
      if (n === 0) break;
      handled += n;
    }
    const seconds = (performance.now() - start) / 1000;
    const cpu = cpuNow() - cpuBefore;
    const redisCpu = (await redisCounters()).cpuSeconds - redisBefore.cpuSeconds;
    const entries = await store.record.allEntries();
    const compliant = entries.filter((e) => e.includes('"status":"compliant"')).length;
    if (compliant !== sealed.length) {
      functionalErrors.push(
        `hub alone (${candidate.name}): ${compliant} of ${sealed.length} recorded as compliant`,
      );
    }
    return {
      backend: candidate.name,
      envelopes: sealed.length,
      recorded: entries.length,
      perCoreSecond: round(entries.length / cpu),
      wallPerSecond: round(entries.length / seconds),
      hubCpuMsPerEnvelope: round((cpu * 1000) / entries.length, 3),
      redisCpuMsPerEnvelope: round((redisCpu * 1000) / entries.length, 3),
    };
  } finally {
    await store.close();
    await dropPrefix(prefix);
  }
}
