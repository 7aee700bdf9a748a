import { Redis } from 'ioredis';
import { type Keyspace, keyspace } from '../keyspace.js';
import { checkRedis } from './health.js';

/**
 * During an outage every command fails within seconds (and maps to UNAVAILABLE) instead of
 * waiting in ioredis's queue for the whole outage: one retry after a failed reconnect, a bounded
 * connect, and a timeout for a Redis that is connected but does not answer (stopped, swapping).
 */
const PROMPT = { maxRetriesPerRequest: 1, connectTimeout: 2_000 } as const;
const COMMAND_TIMEOUT_MS = 3_000;
/** How long a clean QUIT may take at shutdown before the connection is dropped instead. */
const QUIT_WITHIN_MS = 2_000;

/**
 * Closes one ioredis connection: QUIT when it is up (what was sent is answered first), at once
 * otherwise — during an outage QUIT would wait out reconnection attempts, holding up a shutdown.
 * True when the close was clean.
 */
export async function closeRedis(redis: Redis): Promise<boolean> {
  if (redis.status === 'end') return true;
  if (redis.status !== 'ready') {
    redis.disconnect();
    return false;
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const clean = await Promise.race([
    redis.quit().then(
      () => true,
      () => false,
    ),
    new Promise<boolean>((done) => {
      timer = setTimeout(() => done(false), QUIT_WITHIN_MS);
    }),
  ]);
  clearTimeout(timer);
  if (!clean) redis.disconnect();
  return clean;
}

export interface RedisConnectionOptions {
  readonly url: string;
  /** Prefix of every key and channel, so deployments (and test files) never collide. */
  readonly prefix: string;
  /** Connection trouble (ioredis reconnects by itself and queues commands meanwhile). */
  readonly onError?: (error: Error) => void;
  /** Batch commands issued in the same tick into one write (the relay's hot path). Default on. */
  readonly autoPipelining?: boolean;
}

type Run = (...args: (string | number | Buffer)[]) => Promise<unknown>;

/**
 * One deployment's Redis as the parts of the engine (and the hub's stores) share it: a command
 * connection, a subscriber connection made on first use, and the keyspace under the prefix.
 */
export class RedisConnection {
  readonly redis: Redis;
  readonly keys: Keyspace;
  private subscriberConnection: Redis | undefined;

  constructor(private readonly options: RedisConnectionOptions) {
    this.keys = keyspace(options.prefix);
    this.redis = new Redis(options.url, {
      ...PROMPT,
      commandTimeout: COMMAND_TIMEOUT_MS,
      lazyConnect: false,
      enableAutoPipelining: options.autoPipelining ?? true,
    });
    this.redis.on('error', options.onError ?? (() => {}));
  }

  /** A connection in subscriber mode (it can do nothing else), made on first use. */
  get subscriber(): Redis {
    if (!this.subscriberConnection) {
      // Nothing but (un)subscribe may go on it. ioredis's own start-up commands (CLIENT SETINFO,
      // the INFO ready check) run while SUBSCRIBE may already be written, are refused in
      // subscriber mode, and the connection is dropped with its subscriptions: a start-up race
      // that a busy machine makes likely (test/engine/subscriber-race.test.ts).
      this.subscriberConnection = new Redis(this.options.url, {
        ...PROMPT,
        enableReadyCheck: false,
        disableClientInfo: true,
      });
      this.subscriberConnection.on('error', this.options.onError ?? (() => {}));
    }
    return this.subscriberConnection;
  }

  /**
   * A connection of its own, for commands that block (XREADGROUP BLOCK); the caller closes it.
   * Prompt like the others, so a read during an outage fails in seconds and a stop is not held up.
   */
  duplicate(): Redis {
    const connection = new Redis(this.options.url, PROMPT);
    connection.on('error', this.options.onError ?? (() => {}));
    return connection;
  }

  /**
   * Defines a Lua script on the command connection and returns what runs it (EVALSHA, EVAL on a
   * miss). Without `numberOfKeys`, the caller passes the key count first.
   */
  script(name: string, lua: string, numberOfKeys?: number): Run {
    const command = `liaison_${name}`;
    this.redis.defineCommand(command, numberOfKeys === undefined ? { lua } : { lua, numberOfKeys });
    const commands = this.redis as unknown as Record<string, Run>;
    return (...args) => (commands[command] as Run).apply(this.redis, args);
  }

  /** Throws UNAVAILABLE with the reason unless Redis can serve and keep data (health.ts). */
  async ping(): Promise<void> {
    await checkRedis(this.redis, this.keys.readinessProbe);
  }

  /** Closes both connections (see closeRedis); true when both closed cleanly. */
  async close(): Promise<boolean> {
    const closed = await Promise.all([
      closeRedis(this.redis),
      this.subscriberConnection ? closeRedis(this.subscriberConnection) : true,
    ]);
    return closed.every(Boolean);
  }

  /** Deletes every key of this prefix (tests clean up with it). */
  async destroy(): Promise<void> {
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(
        cursor,
        'MATCH',
        `${this.options.prefix}*`,
        'COUNT',
        500,
      );
      if (keys.length > 0) await this.redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  }
}
