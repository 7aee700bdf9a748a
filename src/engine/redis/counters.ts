import type { Counters } from '../counters.js';
import type { RedisConnection } from './connection.js';

/** KEYS: counter. ARGV: windowMs. A fixed window that starts with its first hit. */
const HIT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return count
`;

/** Rate counters in Redis (the relay's own are counted inside its accept script). */
export class RedisCounters implements Counters {
  private readonly run;

  constructor(private readonly connection: RedisConnection) {
    this.run = connection.script('hit', HIT, 1);
  }

  async hit(key: string, windowMs: number): Promise<number> {
    return Number(await this.run(this.connection.keys.counter(key), windowMs));
  }
}
