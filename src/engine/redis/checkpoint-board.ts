import type { CheckpointBoard } from '../checkpoint-board.js';
import type { RedisConnection } from './connection.js';

/** The checkpoint board in Redis: one list beside the record, trimmed to the newest. */
export class RedisCheckpointBoard implements CheckpointBoard {
  constructor(private readonly connection: RedisConnection) {}

  async post(text: string, kept: number): Promise<void> {
    const key = this.connection.keys.recordCheckpoints;
    await this.connection.redis.multi().rpush(key, text).ltrim(key, -kept, -1).exec();
  }

  async all(): Promise<string[]> {
    return this.connection.redis.lrange(this.connection.keys.recordCheckpoints, 0, -1);
  }

  async latest(): Promise<string | undefined> {
    const [text] = await this.connection.redis.lrange(
      this.connection.keys.recordCheckpoints,
      -1,
      -1,
    );
    return text;
  }
}
