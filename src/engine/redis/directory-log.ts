import type { DirectoryLog } from '../directory-log.js';
import type { RedisConnection } from './connection.js';

/** KEYS: log. ARGV: expected length, statements... Appends only if nobody appended meanwhile. */
const APPEND = `
if redis.call('LLEN', KEYS[1]) ~= tonumber(ARGV[1]) then return 0 end
for i = 2, #ARGV do redis.call('RPUSH', KEYS[1], ARGV[i]) end
return 1
`;

/** The directory log as a Redis list, appended with a compare-and-append script. */
export class RedisDirectoryLog implements DirectoryLog {
  private readonly append;

  constructor(private readonly connection: RedisConnection) {
    this.append = connection.script('appendStatements', APPEND, 1);
  }

  async appendStatements(expectedVersion: number, statements: readonly string[]) {
    return (
      (await this.append(this.connection.keys.directory, expectedVersion, ...statements)) === 1
    );
  }

  async readStatements(after: number): Promise<string[]> {
    return this.connection.redis.lrange(this.connection.keys.directory, after, -1);
  }

  async saveHead(head: string): Promise<void> {
    await this.connection.redis.set(this.connection.keys.directoryHead, head);
  }

  async readHead(): Promise<string | undefined> {
    return (await this.connection.redis.get(this.connection.keys.directoryHead)) ?? undefined;
  }
}
