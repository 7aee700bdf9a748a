import type { Engine } from './engine.js';
import type { Keyspace } from './keyspace.js';
import { RedisBlobStore } from './redis/blob-store.js';
import { RedisCheckpointBoard } from './redis/checkpoint-board.js';
import { RedisConnection } from './redis/connection.js';
import { RedisCounters } from './redis/counters.js';
import { RedisDirectoryLog } from './redis/directory-log.js';
import { RedisInboxes } from './redis/inboxes.js';
import { RedisPrekeyBoard } from './redis/prekey-board.js';
import { RedisPresence } from './redis/presence.js';
import { RedisPubSub } from './redis/pubsub.js';
import { RedisReplayGuard } from './redis/replay-guard.js';

export interface RedisEngineOptions {
  readonly url: string;
  /** Prefix of every key and channel, so deployments (and test files) never collide. */
  readonly prefix: string;
  readonly retentionMs: number;
  /** Most items one inbox holds (default MAX_INBOX_ITEMS). */
  readonly maxInboxItems?: number;
  /** Connection trouble (ioredis reconnects by itself and queues commands meanwhile). */
  readonly onError?: (error: Error) => void;
}

/**
 * The engine on Redis: the only datastore, shared by every gateway instance. Its parts share one
 * command connection; pub/sub runs on a second.
 */
export class RedisEngine implements Engine {
  readonly kind = 'redis';
  readonly inboxes: RedisInboxes;
  readonly directoryLog: RedisDirectoryLog;
  readonly replayGuard: RedisReplayGuard;
  readonly counters: RedisCounters;
  readonly presence: RedisPresence;
  readonly pubsub: RedisPubSub;
  readonly checkpoints: RedisCheckpointBoard;
  readonly prekeys: RedisPrekeyBoard;
  readonly blobs: RedisBlobStore;
  /** The names of every key this engine uses (keyspace.ts under its prefix). */
  readonly keys: Keyspace;
  private readonly connection: RedisConnection;

  constructor(options: RedisEngineOptions) {
    if (!Number.isSafeInteger(options.retentionMs) || options.retentionMs < 1) {
      throw new TypeError('retentionMs must be a positive whole number of milliseconds');
    }
    const connection = new RedisConnection(options);
    this.connection = connection;
    this.keys = connection.keys;
    this.inboxes = new RedisInboxes(connection, options.retentionMs, options.maxInboxItems);
    this.directoryLog = new RedisDirectoryLog(connection);
    this.replayGuard = new RedisReplayGuard(connection);
    this.counters = new RedisCounters(connection);
    this.presence = new RedisPresence(connection);
    this.pubsub = new RedisPubSub(connection);
    this.checkpoints = new RedisCheckpointBoard(connection);
    this.prekeys = new RedisPrekeyBoard(connection);
    this.blobs = new RedisBlobStore(connection, options.retentionMs);
  }

  async ping(): Promise<void> {
    await this.connection.ping();
  }

  async close(): Promise<void> {
    this.pubsub.clear();
    await this.connection.close();
  }

  /** Deletes every key of this engine's prefix (tests clean up with it). */
  async destroy(): Promise<void> {
    await this.connection.destroy();
  }
}
