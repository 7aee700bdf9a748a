import { FeedEscalation } from '../../protocol/v1/analyst.js';
import type { RedisConnection } from '../engine/redis/connection.js';

/** How many escalations are kept for replay to analysts catching up. */
const ESCALATION_LOG_LIMIT = 10_000;
/** How many one catch-up replays at most (the feed's page size). */
const ESCALATION_PAGE = 500;

/**
 * Takes the escalations due at ARGV[1] on a lease: they become due again at ARGV[2] unless the
 * claimer confirms them first, so a replica that dies mid-escalation does not lose one.
 */
const CLAIM_DUE = `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 50)
for _, member in ipairs(due) do redis.call('ZADD', KEYS[1], ARGV[2], member) end
return due
`;

export interface AlertState {
  readonly id: string;
  readonly from: string;
  readonly to: string;
  readonly precedence: string;
  readonly acceptedAt: number;
  readonly ackedAt?: number;
  readonly ackedBy?: string;
  readonly escalatedAt?: number;
}

/**
 * Alert bookkeeping in Redis, derived from the record: each alert's state and the escalation
 * clock (a sorted set of due times), so escalation survives restarts and replicas share it.
 */
export class AlertBook {
  private readonly claim;

  constructor(
    private readonly connection: RedisConnection,
    /** Alert bookkeeping lives as long as the record keeps entries. */
    private readonly ttlMs: number = 365 * 24 * 3_600_000,
  ) {
    this.claim = connection.script('claimDue', CLAIM_DUE, 1);
  }

  async trackAlert(alert: AlertState, dueAt: number | undefined): Promise<void> {
    const { redis, keys } = this.connection;
    const { id, from, to, precedence, acceptedAt } = alert;
    await redis.hset(keys.alert(id), { id, from, to, precedence, acceptedAt });
    await redis.pexpire(keys.alert(id), this.ttlMs);
    const acked = await redis.hexists(keys.alert(id), 'ackedAt');
    if (dueAt !== undefined && !acked) await redis.zadd(keys.escalationDue, dueAt, id);
  }

  /** Marks an alert acknowledged (first time only) and takes it off the escalation clock. */
  async acknowledgeAlert(id: string, by: string, at: number): Promise<void> {
    const { redis, keys } = this.connection;
    const key = keys.alert(id);
    await redis.hsetnx(key, 'ackedAt', at);
    await redis.pexpire(key, this.ttlMs);
    await redis.hsetnx(key, 'ackedBy', by);
    await redis.zrem(keys.escalationDue, id);
  }

  async alert(id: string): Promise<AlertState | undefined> {
    const fields = await this.connection.redis.hgetall(this.connection.keys.alert(id));
    if (!fields.id && !fields.ackedAt) return undefined;
    return {
      id,
      from: fields.from as string,
      to: fields.to as string,
      precedence: fields.precedence as string,
      acceptedAt: Number(fields.acceptedAt),
      ...(fields.ackedAt
        ? { ackedAt: Number(fields.ackedAt), ackedBy: fields.ackedBy as string }
        : {}),
      ...(fields.escalatedAt ? { escalatedAt: Number(fields.escalatedAt) } : {}),
    };
  }

  /** Alert ids whose acknowledgement is overdue, each leased to one caller for `leaseMs`. */
  async claimDue(now: number, leaseMs = 30_000): Promise<string[]> {
    return (await this.claim(this.connection.keys.escalationDue, now, now + leaseMs)) as string[];
  }

  /** Keeps an escalation for analysts who were away when it was made (the newest 10,000). */
  async logEscalation(escalation: FeedEscalation): Promise<void> {
    const { redis, keys } = this.connection;
    await redis.zadd(keys.escalationLog, escalation.escalatedAt, JSON.stringify(escalation));
    await redis.zremrangebyrank(keys.escalationLog, 0, -(ESCALATION_LOG_LIMIT + 1));
  }

  /** The escalations made after `after` (ms), oldest first, at most 500. */
  async escalationsAfter(after: number): Promise<FeedEscalation[]> {
    const { redis, keys } = this.connection;
    const stored = await redis.zrangebyscore(
      keys.escalationLog,
      `(${after}`,
      '+inf',
      'LIMIT',
      0,
      ESCALATION_PAGE,
    );
    return stored.flatMap((text) => {
      const parsed = FeedEscalation.safeParse(JSON.parse(text));
      return parsed.success ? [parsed.data] : [];
    });
  }

  /** An escalation was delivered: off the clock for good. */
  async escalated(id: string, at: number): Promise<void> {
    const { redis, keys } = this.connection;
    await redis.hset(keys.alert(id), 'escalatedAt', at);
    await redis.zrem(keys.escalationDue, id);
  }
}
