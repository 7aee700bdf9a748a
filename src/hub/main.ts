import { readFile } from 'node:fs/promises';
import { pinAuthority } from '../crypto/certificate.js';
import { RedisEngine } from '../engine/redis.js';
import { createLogger } from '../gateway/logger.js';
import { readDeviceKey } from '../keystore/keyfile.js';
import type { HubConfig } from './config.js';
import { type Hub, startHub } from './service.js';
import { HubStore } from './store.js';

/** Runs a hub replica from its configuration; `stop` closes it and its Redis connections. */
export async function runHub(config: HubConfig): Promise<{ hub: Hub; stop: () => Promise<void> }> {
  const logger = createLogger(config.logLevel, `hub-${config.consumer}`);
  const onError = (error: Error) => logger.warn({ err: error }, 'redis connection trouble');
  const store = new HubStore(config.redisUrl, config.redisPrefix, onError, config.retentionMs);
  // The hub uses the engine for the directory, token replay and pub/sub; it accepts nothing.
  const engine = new RedisEngine({
    url: config.redisUrl,
    prefix: config.redisPrefix,
    retentionMs: 1,
    onError,
  });
  const authority = await pinAuthority(JSON.parse(await readFile(config.authorityFile, 'utf8')));
  const hubKeys = (await readDeviceKey(config.hubKeyFile)).keys;
  const hub = await startHub(
    {
      host: config.host,
      port: config.port,
      audience: config.audience,
      consumer: config.consumer,
      deadlines: config.deadlines,
      retentionMs: config.retentionMs,
      consoleOrigins: config.consoleOrigins,
    },
    { engine, store, hubKeys, authority, logger },
  );
  return {
    hub,
    stop: async () => {
      await hub.close();
      await Promise.all([store.close(), engine.close()]);
    },
  };
}
