import { readFile, writeFile } from 'node:fs/promises';
import { ArchiveKeyFile } from '../../protocol/v1/prekey.js';
import { pinAuthority } from '../crypto/certificate.js';
import { fromBase64Url } from '../crypto/sodium.js';
import { RedisBlobStore } from '../engine/redis/blob-store.js';
import { RedisConnection } from '../engine/redis/connection.js';
import { RedisDirectoryLog } from '../engine/redis/directory-log.js';
import { RedisPrekeyBoard } from '../engine/redis/prekey-board.js';
import { RedisPubSub } from '../engine/redis/pubsub.js';
import { RedisReplayGuard } from '../engine/redis/replay-guard.js';
import { readDeviceKey } from '../keystore/keyfile.js';
import { explainStartup, requireRedis } from '../runtime/fatal.js';
import { createLogger } from '../runtime/logger.js';
import type { HubConfig } from './config.js';
import { type Hub, startHub } from './service.js';
import { HubStore } from './store.js';

/**
 * A sealed hub key file's passphrase comes from this environment variable (a service has no
 * terminal); a plaintext one (the development set) needs none.
 */
export const HUB_KEY_PASSPHRASE = { env: 'HUB_KEY_PASSPHRASE' } as const;

/**
 * Longest a stop may take: Redis connections are dropped within about 2 s when it does not
 * answer, so only something else hanging reaches this; the process then exits 1 anyway.
 */
const SHUTDOWN_DEADLINE_MS = 10_000;

/** Runs a hub replica from its configuration; `stop` closes it and its Redis connections. */
export async function runHub(config: HubConfig): Promise<{ hub: Hub; stop: () => Promise<void> }> {
  const logger = createLogger(config.logLevel, `hub-${config.consumer}`);
  await requireRedis(config.redisUrl);
  const onError = (error: Error) => logger.warn({ err: error }, 'redis connection trouble');
  const store = new HubStore(config.redisUrl, config.redisPrefix, onError, config.retentionMs);
  // Of the engine, the hub takes the directory log, the replay guard, pub/sub, the prekey board and
  // the attachment blobs (to read them for analysts); it accepts nothing.
  const connection = new RedisConnection({
    url: config.redisUrl,
    prefix: config.redisPrefix,
    onError,
  });
  const engine = {
    directoryLog: new RedisDirectoryLog(connection),
    replayGuard: new RedisReplayGuard(connection),
    pubsub: new RedisPubSub(connection),
    prekeys: new RedisPrekeyBoard(connection),
    // Read only: the retention given is the gateway's business when it stores.
    blobs: new RedisBlobStore(connection, config.retentionMs),
    ping: () => connection.ping(),
  };
  const authority = await pinAuthority(JSON.parse(await readFile(config.authorityFile, 'utf8')));
  const hubKeys = [];
  for (const file of [config.hubKeyFile, ...config.hubPastKeyFiles]) {
    hubKeys.push((await readDeviceKey(file, HUB_KEY_PASSPHRASE)).keys);
  }
  const prekeys = await hubPrekeyFiles(config);
  let hub: Hub;
  try {
    hub = await startHub(
      {
        host: config.host,
        port: config.port,
        audience: config.audience,
        consumer: config.consumer,
        deadlines: config.deadlines,
        retentionMs: config.retentionMs,
        consoleOrigins: config.consoleOrigins,
      },
      { engine, store, hubKeys, authority, logger, prekeys, owned: [store, connection] },
    );
  } catch (error) {
    await Promise.allSettled([store.close(), connection.close()]);
    throw explainStartup(error, {
      what: 'hub',
      redisUrl: config.redisUrl,
      prefix: config.redisPrefix,
      port: config.port,
    });
  }
  const stop = async () => {
    logger.info('shutting down');
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`shutdown did not finish within ${SHUTDOWN_DEADLINE_MS / 1000} s`)),
        SHUTDOWN_DEADLINE_MS,
      );
    });
    try {
      await Promise.race([hub.close(), deadline]);
      logger.info('stopped');
    } catch (error) {
      logger.error({ err: error }, 'shutdown cut short');
      throw error;
    } finally {
      clearTimeout(timer);
    }
  };
  return { hub, stop };
}

/**
 * The hub's saved prekey state (written back, readable by the hub's user only) and the archive
 * public key, from their files. A missing state file starts a new chain.
 */
async function hubPrekeyFiles(config: HubConfig) {
  const state = await readFile(config.prekeyStateFile, 'utf8').then(
    (text) => text.trim(),
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    },
  );
  let archivePublicKey: Uint8Array | undefined;
  if (config.archivePublicKeyFile) {
    const file = ArchiveKeyFile.safeParse(
      JSON.parse(await readFile(config.archivePublicKeyFile, 'utf8')),
    );
    if (!file.success) {
      throw new Error(
        `HUB_ARCHIVE_PUBLIC_KEY_FILE ${config.archivePublicKeyFile} is not an archive public key file (PROTOCOL.md §5.6)`,
      );
    }
    archivePublicKey = fromBase64Url(file.data.publicKey);
  }
  return {
    ...(state ? { state } : {}),
    ...(archivePublicKey ? { archivePublicKey } : {}),
    windowMs: config.prekeyWindowMs,
    save: (sealed: string) => writeFile(config.prekeyStateFile, `${sealed}\n`, { mode: 0o600 }),
  };
}
