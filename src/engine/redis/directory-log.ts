import { randomUUID } from 'node:crypto';
import type { DirectoryLog, StagedAppend } from '../directory-log.js';
import type { RedisConnection } from './connection.js';

/** Statements per command: a 100,000-device directory is ~200,000 of them (one call overflowed). */
const CHUNK = 1000;
/**
 * An add of at least this many is staged at once instead of waiting for a full chunk: a large
 * start's texts then live for one write, not across windows (long-lived texts are promoted to
 * V8's old space, and a server's memory keeps that peak). Smaller adds (a post) wait, so an
 * append that never fills a chunk stays one script call.
 */
const STAGE_FROM = 200;
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
if tonumber(ARGV[1]) == 0 and redis.call('EXISTS', KEYS[2]) == 1 then
  -- A first load (an empty log) takes the staging list as it is: no copy of 100,000s of texts.
  redis.call('RENAME', KEYS[2], KEYS[1])
  redis.call('PERSIST', KEYS[1])
  return 1
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
 * (a first start from a big directory file) is staged in chunks as it is given, then moved in one
 * step: the log never holds half of it.
 */
export class RedisDirectoryLog implements DirectoryLog {
  private readonly append;
  private readonly appendStaged;

  constructor(private readonly connection: RedisConnection) {
    this.append = connection.script('appendStatements', APPEND, 1);
    this.appendStaged = connection.script('appendStagedStatements', APPEND_STAGED, 2);
  }

  async appendStatements(expectedVersion: number, statements: readonly string[]) {
    const staged = this.startAppend();
    await staged.add(statements);
    return staged.commit(expectedVersion);
  }

  startAppend(): StagedAppend {
    const log = this.connection.keys.directory;
    const staging = `${log}:staging:${randomUUID()}`;
    const { redis } = this.connection;
    /** Up to a chunk waits here; an append that never fills one is a single script call. */
    let held: string[] = [];
    let staged = false;
    let writing: Promise<unknown> = Promise.resolve();
    const stage = (chunk: string[]) => {
      staged = true;
      const write = redis
        .multi()
        .rpush(staging, ...chunk)
        .pexpire(staging, STAGING_TTL_MS)
        .exec();
      // Awaited by the next add or by commit; a failure is reported there, not left unhandled.
      writing = Promise.all([writing, write]);
      writing.catch(() => undefined);
    };
    const drop = () => redis.del(staging);
    return {
      add: async (statements) => {
        const before = writing;
        for (const statement of statements) {
          held.push(statement);
          if (held.length === CHUNK) {
            stage(held);
            held = [];
          }
        }
        if (held.length >= STAGE_FROM) {
          stage(held);
          held = [];
        }
        await before;
      },
      commit: async (expectedVersion) => {
        try {
          if (!staged) return (await this.append(log, expectedVersion, ...held)) === 1;
          if (held.length > 0) stage(held);
          held = [];
          await writing;
          return (await this.appendStaged(log, staging, expectedVersion, CHUNK)) === 1;
        } finally {
          if (staged) await drop();
        }
      },
      abort: async () => {
        held = [];
        await writing.catch(() => undefined);
        if (staged) await drop();
      },
    };
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
