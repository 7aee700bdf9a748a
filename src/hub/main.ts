import { readFile } from 'node:fs/promises';
import { pinAuthority } from '../crypto/certificate.js';
import { RedisConnection } from '../engine/redis/connection.js';
import { RedisDirectoryLog } from '../engine/redis/directory-log.js';
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

/** Runs a hub replica from its configuration; `stop` closes it and its Redis connections. */
export async function runHub(config: HubConfig): Promise<{ hub: Hub; stop: () => Promise<void> }> {
  const logger = createLogger(config.logLevel, `hub-${config.consumer}`);
  await requireRedis(config.redisUrl);
  const onError = (error: Error) => logger.warn({ err: error }, 'redis connection trouble');
  const store = new HubStore(config.redisUrl, config.redisPrefix, onError, config.retentionMs);
  // Of the engine, the hub takes the directory log, the replay guard and pub/sub; it accepts nothing.
  const connection = new RedisConnection({
    url: config.redisUrl,
    prefix: config.redisPrefix,
    onError,
  });
  const engine = {
    directoryLog: new RedisDirectoryLog(connection),
    replayGuard: new RedisReplayGuard(connection),
    pubsub: new RedisPubSub(connection),
    ping: () => connection.ping(),
  };
  const authority = await pinAuthority(JSON.parse(await readFile(config.authorityFile, 'utf8')));
  const hubKeys = [];
  for (const file of [config.hubKeyFile, ...config.hubPastKeyFiles]) {
    hubKeys.push((await readDeviceKey(file, HUB_KEY_PASSPHRASE)).keys);
  }
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
      { engine, store, hubKeys, authority, logger, owned: [store, connection] },
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
  return { hub, stop: () => hub.close() };
}
