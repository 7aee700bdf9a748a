import type { ReplayGuard } from '../replay-guard.js';
import type { RedisConnection } from './connection.js';

/** The replay guard in Redis: one key per claim, expiring with what it guards. */
export class RedisReplayGuard implements ReplayGuard {
  constructor(private readonly connection: RedisConnection) {}

  async claimOnce(key: string, expiresAt: number): Promise<boolean> {
    const ttl = Math.max(1, expiresAt - Date.now());
    const name = this.connection.keys.claim(key);
    return (await this.connection.redis.set(name, '1', 'PX', ttl, 'NX')) === 'OK';
  }
}
