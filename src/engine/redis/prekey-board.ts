import { type BoardPrekey, keptPrekeys, type PrekeyBoard } from '../prekey-board.js';
import type { RedisConnection } from './connection.js';

/** Prekeys in Redis: one hash per device, prekey id → `notAfter|text`. */
export class RedisPrekeyBoard implements PrekeyBoard {
  constructor(private readonly connection: RedisConnection) {}

  async put(deviceId: string, prekeys: readonly BoardPrekey[], now: number): Promise<void> {
    const key = this.connection.keys.prekeys(deviceId);
    const old = parse(await this.connection.redis.hgetall(key));
    const kept = keptPrekeys(old, prekeys, now);
    const keep = new Set(kept.map((p) => p.prekeyId));
    const gone = old.filter((p) => !keep.has(p.prekeyId)).map((p) => p.prekeyId);
    const step = this.connection.redis.multi();
    if (gone.length > 0) step.hdel(key, ...gone);
    for (const p of prekeys) {
      if (keep.has(p.prekeyId)) step.hset(key, p.prekeyId, `${p.notAfter}|${p.text}`);
    }
    await step.exec();
  }

  async get(deviceIds: readonly string[]): Promise<Map<string, BoardPrekey[]>> {
    const step = this.connection.redis.pipeline();
    for (const id of deviceIds) step.hgetall(this.connection.keys.prekeys(id));
    const replies = (await step.exec()) ?? [];
    return new Map(
      deviceIds.map((id, i) => {
        const [error, fields] = replies[i] ?? [null, {}];
        if (error) throw error;
        return [id, parse(fields as Record<string, string>)];
      }),
    );
  }
}

function parse(fields: Record<string, string>): BoardPrekey[] {
  return Object.entries(fields).flatMap(([prekeyId, value]) => {
    const bar = value.indexOf('|');
    const notAfter = Number(value.slice(0, bar));
    return bar > 0 && Number.isSafeInteger(notAfter)
      ? [{ prekeyId, notAfter, text: value.slice(bar + 1) }]
      : [];
  });
}
