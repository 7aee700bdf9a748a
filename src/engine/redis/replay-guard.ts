import { MemoryReplayGuard, type ReplayGuard } from '../replay-guard.js';
import type { RedisConnection } from './connection.js';
import { redisUnavailable } from './health.js';

/**
 * The replay guard in Redis: one key per claim, expiring with what it guards. When Redis is out
 * of memory it refuses the claim (a write), yet a device must still connect to drain its inbox,
 * which is what frees memory: a token Redis has not seen is then claimed on this instance only
 * (SECURITY.md, "Redis out of memory").
 */
export class RedisReplayGuard implements ReplayGuard {
  private readonly local = new MemoryReplayGuard();

  constructor(private readonly connection: RedisConnection) {}

  async claimOnce(key: string, expiresAt: number): Promise<boolean> {
    const ttl = Math.max(1, expiresAt - Date.now());
    const name = this.connection.keys.claim(key);
    try {
      const claimed = (await this.connection.redis.set(name, '1', 'PX', ttl, 'NX')) === 'OK';
      return claimed && (await this.local.claimOnce(key, expiresAt));
    } catch (error) {
      if (redisUnavailable(error)?.details?.reason !== 'redis-oom') throw error;
      if ((await this.connection.redis.exists(name)) === 1) return false;
      return this.local.claimOnce(key, expiresAt);
    }
  }
}
