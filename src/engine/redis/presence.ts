import type { Presence } from '../presence.js';
import type { RedisConnection } from './connection.js';
import { NOW } from './lua.js';

/** KEYS: presence set. ARGV: connection, expiresAt (0 to remove). Returns live connections. */
const PRESENCE = `
${NOW}
if tonumber(ARGV[2]) > 0 then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
else
  redis.call('ZREM', KEYS[1], ARGV[1])
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if #last == 2 then redis.call('PEXPIREAT', KEYS[1], last[2]) end
return redis.call('ZCARD', KEYS[1])
`;

/** Presence in Redis: a sorted set of connections per office, scored by when they lapse. */
export class RedisPresence implements Presence {
  private readonly run;

  constructor(private readonly connection: RedisConnection) {
    this.run = connection.script('presence', PRESENCE, 1);
  }

  async touchPresence(office: string, connection: string, expiresAt: number) {
    return Number(await this.run(this.connection.keys.presence(office), connection, expiresAt));
  }

  async dropPresence(office: string, connection: string) {
    return Number(await this.run(this.connection.keys.presence(office), connection, 0));
  }
}
