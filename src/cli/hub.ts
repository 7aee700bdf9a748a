import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { pinAuthority } from '../crypto/certificate.js';
import { signCheckpoint } from '../directory/checkpoint.js';
import { Directory } from '../directory/directory.js';
import { RedisConnection } from '../engine/redis/connection.js';
import { RedisDirectoryLog } from '../engine/redis/directory-log.js';
import { verifyRecord } from '../hub/checkpoints.js';
import { type HubConfig, loadHubConfig } from '../hub/config.js';
import { runHub } from '../hub/main.js';
import { HubStore } from '../hub/store.js';
import { readDeviceKey } from '../keystore/keyfile.js';
import { UsageError } from './keys.js';

export const HUB_USAGE = `liaison hub <command>      (configured from the environment: README §The CARICC hub)

  run         record every envelope, escalate overdue alerts, serve analysts (until SIGTERM)
  verify [--checkpoint FILE]...
              check the record's hash chain and the checkpoints the hub signed (those in Redis and
              the files given, kept outside it); prints the first break, exit 1 if any
  checkpoint --out FILE
              sign where the record stands now with the hub's key, keep it in Redis and in FILE`;

/** The directory as the log in Redis holds it, checked against the pinned authority. */
async function directoryOf(config: HubConfig): Promise<Directory> {
  const authority = await pinAuthority(JSON.parse(await readFile(config.authorityFile, 'utf8')));
  const connection = new RedisConnection({ url: config.redisUrl, prefix: config.redisPrefix });
  try {
    const directory = new Directory(authority);
    const statements = await new RedisDirectoryLog(connection).readStatements(0);
    directory.applyAll(statements.map((text) => JSON.parse(text)));
    return directory;
  } finally {
    await connection.close();
  }
}

/** `liaison hub run | verify | checkpoint`. */
export async function hubCommand(argv: string[], print: (line: string) => void): Promise<void> {
  const [command, ...rest] = argv;
  if (command !== 'run' && command !== 'verify' && command !== 'checkpoint') {
    throw new UsageError(HUB_USAGE);
  }
  const { values } = parseArgs({
    args: rest,
    options: { checkpoint: { type: 'string', multiple: true }, out: { type: 'string' } },
  });
  const config = loadHubConfig(process.env);
  if (command === 'checkpoint') {
    if (!values.out) throw new UsageError(HUB_USAGE);
    const { keys } = await readDeviceKey(config.hubKeyFile);
    const store = new HubStore(config.redisUrl, config.redisPrefix);
    try {
      const checkpoint = await signCheckpoint(keys, await store.record.head());
      await store.checkpoints.add(checkpoint);
      await writeFile(values.out, `${JSON.stringify(checkpoint, null, 2)}\n`);
    } finally {
      await store.close();
    }
    print(`checkpoint written to ${values.out}: keep it outside Redis`);
    return;
  }
  if (command === 'verify') {
    const exported = await Promise.all(
      (values.checkpoint ?? []).map(async (file) => JSON.parse(await readFile(file, 'utf8'))),
    );
    const store = new HubStore(config.redisUrl, config.redisPrefix);
    let report: Awaited<ReturnType<typeof verifyRecord>>;
    try {
      const stored = await store.checkpoints.all();
      // Checkpoints are checked against the hub keys the authority certified; a bare chain is not.
      const directory = stored.length + exported.length > 0 ? await directoryOf(config) : undefined;
      report = await verifyRecord(store.record, stored, {
        ...(directory ? { directory } : {}),
        now: Date.now(),
        retentionMs: config.retentionMs,
        exported,
      });
    } finally {
      await store.close();
    }
    const { checked, refused, broken } = report.checkpoints;
    if (report.ok) {
      print(
        `record intact: ${report.entries} entries, each chained to the one before, and consistent with ${checked} signed checkpoint(s)${refused ? ` (${refused} unsigned one(s) in Redis ignored)` : ''}`,
      );
      return;
    }
    if (report.broken) {
      print(
        `record BROKEN at entry ${report.broken.position} (seq ${report.broken.seq ?? '?'}): ${report.broken.reason}`,
      );
    }
    if (broken) {
      print(
        `record CONTRADICTS the checkpoint the hub signed at ${new Date(broken.at).toISOString()} (seq ${broken.seq}): ${broken.reason}`,
      );
    }
    process.exitCode = 1;
    return;
  }

  const { stop: close } = await runHub(config);
  const stop = () => {
    close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  await new Promise(() => {});
}
