import { closeRedis, RedisConnection } from '../engine/redis/connection.js';
import { AlertBook } from './alert-book.js';
import { CheckpointLog } from './checkpoints.js';
import { RedisPrekeyArchive } from './prekey-archive.js';
import { RecordLog } from './record-log.js';
import { StreamConsumer } from './stream-consumer.js';

/**
 * The hub's state in Redis, beside the gateway's (same prefix), by job: the record log and the
 * checkpoints signed over it, the consumer of the gateway's accepted-envelope stream, the
 * alert book and the archive of retired prekeys. One command connection
 * for all three, and one of its own for the stream's blocking reads.
 */
export class HubStore {
  readonly record: RecordLog;
  readonly stream: StreamConsumer;
  readonly alerts: AlertBook;
  readonly checkpoints: CheckpointLog;
  readonly prekeyArchive: RedisPrekeyArchive;
  private readonly connection: RedisConnection;
  private readonly blocking;

  constructor(
    url: string,
    prefix: string,
    onError: (error: Error) => void = () => {},
    /** Alert bookkeeping lives as long as the record keeps entries. */
    alertTtlMs?: number,
  ) {
    this.connection = new RedisConnection({ url, prefix, onError, autoPipelining: false });
    this.blocking = this.connection.duplicate();
    this.record = new RecordLog(this.connection);
    this.stream = new StreamConsumer(this.connection, this.blocking);
    this.alerts = new AlertBook(this.connection, alertTtlMs);
    this.checkpoints = new CheckpointLog(this.connection);
    this.prekeyArchive = new RedisPrekeyArchive(this.connection);
  }

  /** Closes its connections; true when Redis answered and they closed cleanly. */
  async close(): Promise<boolean> {
    const closed = await Promise.all([this.connection.close(), closeRedis(this.blocking)]);
    return closed.every(Boolean);
  }
}
