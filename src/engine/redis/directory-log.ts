import { randomUUID } from 'node:crypto';
import type { DirectoryLog } from '../directory-log.js';
import type { RedisConnection } from './connection.js';

/** Statements per command: a 100,000-device directory is ~200,000 of them (one call overflowed). */
const CHUNK = 1000;
/** A staging list left by a writer that died mid-append expires on its own. */
const STAGING_TTL_MS = 10 * 60 * 1000;

/** KEYS: log. ARGV: expected length, statements... Appends only if nobody appended meanwhile. */
const APPEND = `
if redis.call('LLEN', KEYS[1]) ~= tonumber(ARGV[1]) then return 0 end
for i = 2, #ARGV do redis.call('RPUSH', KEYS[1], ARGV[i]) end
return 1
`;

/**
 * KEYS: log, staging list. ARGV: expected length, chunk size. Moves the staged statements onto
 * the log in one step if nobody appended meanwhile; drops the staging list either way.
 */
const APPEND_STAGED = `
if redis.call('LLEN', KEYS[1]) ~= tonumber(ARGV[1]) then
  redis.call('DEL', KEYS[2])
  return 0
end
local n = redis.call('LLEN', KEYS[2])
local step = tonumber(ARGV[2])
for i = 0, n - 1, step do
  redis.call('RPUSH', KEYS[1], unpack(redis.call('LRANGE', KEYS[2], i, i + step - 1)))
end
redis.call('DEL', KEYS[2])
return 1
`;

/**
 * The directory log as a Redis list, appended with a compare-and-append script. A large append
 * (a first start from a big directory file) is staged in chunks, then moved in one step: the log
 * never holds half of it.
 */
export class RedisDirectoryLog implements DirectoryLog {
  private readonly append;
  private readonly appendStaged;

  constructor(private readonly connection: RedisConnection) {
    this.append = connection.script('appendStatements', APPEND, 1);
    this.appendStaged = connection.script('appendStagedStatements', APPEND_STAGED, 2);
  }

  async appendStatements(expectedVersion: number, statements: readonly string[]) {
    const log = this.connection.keys.directory;
    if (statements.length <= CHUNK) {
      return (await this.append(log, expectedVersion, ...statements)) === 1;
    }
    const staging = `${log}:staging:${randomUUID()}`;
    const { redis } = this.connection;
    try {
      for (let i = 0; i < statements.length; i += CHUNK) {
        await redis
          .multi()
          .rpush(staging, ...statements.slice(i, i + CHUNK))
          .pexpire(staging, STAGING_TTL_MS)
          .exec();
      }
      return (await this.appendStaged(log, staging, expectedVersion, CHUNK)) === 1;
    } finally {
      await redis.del(staging);
    }
  }

  async readStatements(after: number, limit?: number): Promise<string[]> {
    const last = limit === undefined ? -1 : after + limit - 1;
    return this.connection.redis.lrange(this.connection.keys.directory, after, last);
  }

  async saveHead(head: string): Promise<void> {
    await this.connection.redis.set(this.connection.keys.directoryHead, head);
  }

  async readHead(): Promise<string | undefined> {
    return (await this.connection.redis.get(this.connection.keys.directoryHead)) ?? undefined;
  }
}
