import { Redis } from 'ioredis';
import { GENESIS } from './record.js';

/**
 * Appends a batch of chained entries only if the head is still where the writer read it and none
 * of their envelope ids is recorded yet. ARGV: expected seq, new head hash, then (id, entry) pairs.
 * Returns 1 when appended, 0 when the head moved, -1 when an id was recorded meanwhile.
 */
const APPEND = `
for i = 3, #ARGV, 2 do
  if redis.call('HEXISTS', KEYS[3], ARGV[i]) == 1 then return -1 end
end
local head = redis.call('GET', KEYS[2])
local seq = 0
if head then seq = tonumber(string.match(head, '^(%d+)')) end
if seq ~= tonumber(ARGV[1]) then return 0 end
for i = 3, #ARGV, 2 do
  seq = seq + 1
  redis.call('RPUSH', KEYS[1], ARGV[i + 1])
  redis.call('HSET', KEYS[3], ARGV[i], seq)
end
redis.call('SET', KEYS[2], seq .. ' ' .. ARGV[2])
return 1
`;

/**
 * Takes the escalations due at ARGV[1] on a lease: they become due again at ARGV[2] unless the
 * claimer confirms them first, so a replica that dies mid-escalation does not lose one.
 */
const CLAIM_DUE = `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 50)
for _, member in ipairs(due) do redis.call('ZADD', KEYS[1], ARGV[2], member) end
return due
`;

/** Reads the base and a range of the record in one step, so a concurrent trim cannot shift it. */
const READ = `
local base = redis.call('GET', KEYS[2])
local seq = 0
if base then seq = tonumber(string.match(base, '^(%d+)')) end
local from = math.max(0, tonumber(ARGV[1]) - seq)
return redis.call('LRANGE', KEYS[1], from, from + tonumber(ARGV[2]) - 1)
`;

/**
 * Drops the oldest entries past retention, if the record still starts where the trimmer read it,
 * and moves the base (the last dropped entry's seq and hash) so the rest still verifies.
 */
const TRIM = `
local first = redis.call('LINDEX', KEYS[1], 0)
if not first or string.sub(first, 1, 64) ~= ARGV[2] then return 0 end
redis.call('LTRIM', KEYS[1], tonumber(ARGV[1]), -1)
redis.call('SET', KEYS[2], ARGV[3])
for i = 4, #ARGV do redis.call('HDEL', KEYS[3], ARGV[i]) end
return 1
`;

export interface StreamItem {
  readonly streamId: string;
  readonly meta: string;
  readonly envelope: string;
}

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

type Scripted = Redis & {
  appendRecord(...args: (string | number)[]): Promise<number>;
  trimRecord(...args: (string | number)[]): Promise<number>;
  readRecord(...args: (string | number)[]): Promise<string[]>;
  claimDue(...args: (string | number)[]): Promise<string[]>;
};

/**
 * The hub's state in Redis, beside the gateway's (same prefix): the gateway's accepted-envelope
 * stream it consumes with a consumer group, the hash-chained record, and alert bookkeeping.
 */
export class HubStore {
  private readonly redis: Scripted;
  /** XREADGROUP blocks: it gets a connection of its own. */
  private readonly reader: Redis;
  private readonly k: {
    stream: string;
    record: string;
    head: string;
    base: string;
    ids: string;
    due: string;
    alert: (id: string) => string;
  };

  constructor(
    url: string,
    prefix: string,
    onError: (error: Error) => void = () => {},
    /** Alert bookkeeping lives as long as the record keeps entries. */
    private readonly alertTtlMs: number = 365 * 24 * 3_600_000,
  ) {
    this.redis = new Redis(url) as Scripted;
    this.redis.defineCommand('appendRecord', { lua: APPEND, numberOfKeys: 3 });
    this.redis.defineCommand('claimDue', { lua: CLAIM_DUE, numberOfKeys: 1 });
    this.redis.defineCommand('trimRecord', { lua: TRIM, numberOfKeys: 3 });
    this.redis.defineCommand('readRecord', { lua: READ, numberOfKeys: 2 });
    this.reader = new Redis(url);
    this.redis.on('error', onError);
    this.reader.on('error', onError);
    this.k = {
      stream: `${prefix}hub`,
      record: `${prefix}record`,
      head: `${prefix}record:head`,
      base: `${prefix}record:base`,
      ids: `${prefix}record:ids`,
      due: `${prefix}escalation:due`,
      alert: (id) => `${prefix}alert:${id}`,
    };
  }

  /** Creates the consumer group once; every hub replica joins it. */
  async ensureGroup(group: string): Promise<void> {
    try {
      await this.redis.xgroup('CREATE', this.k.stream, group, '0', 'MKSTREAM');
    } catch (error) {
      if (!String(error).includes('BUSYGROUP')) throw error;
    }
  }

  /**
   * The next items for this consumer: first those another replica took and left unacknowledged
   * for `staleMs` (it died), then new ones, waiting up to `blockMs` for them.
   */
  async read(group: string, consumer: string, count: number, blockMs: number, staleMs: number) {
    const claimed = (await this.redis.xautoclaim(
      this.k.stream,
      group,
      consumer,
      staleMs,
      '0',
      'COUNT',
      count,
    )) as [string, [string, string[]][]];
    // Entries deleted from the stream come back as null: nothing to record for them.
    const stale = claimed[1].filter((entry) => entry?.[1]);
    if (stale.length > 0) return stale.map(toItem);
    // BLOCK 0 would wait for ever: without a wait, ask without BLOCK.
    const block = blockMs > 0 ? ['BLOCK', blockMs] : [];
    const reply = (await this.reader.xreadgroup(
      'GROUP',
      group,
      consumer,
      'COUNT',
      count,
      ...(block as ['BLOCK', number]),
      'STREAMS',
      this.k.stream,
      '>',
    )) as [string, [string, string[]][]][] | null;
    return (reply?.[0]?.[1] ?? []).map(toItem);
  }

  /** Sequence number and hash of the last entry. */
  async head(): Promise<{ seq: number; hash: string }> {
    const head = await this.redis.get(this.k.head);
    if (!head) return { seq: 0, hash: GENESIS };
    const [seq, hash] = head.split(' ') as [string, string];
    return { seq: Number(seq), hash };
  }

  /** Where the kept record starts: the seq and hash of the last entry dropped by retention. */
  async base(): Promise<{ seq: number; hash: string }> {
    const base = await this.redis.get(this.k.base);
    if (!base) return { seq: 0, hash: GENESIS };
    const [seq, hash] = base.split(' ') as [string, string];
    return { seq: Number(seq), hash };
  }

  /** Drops `count` entries from the start if the first is still `firstHash`. */
  async trim(
    count: number,
    firstHash: string,
    newBase: { seq: number; hash: string },
    streamIds: readonly string[] = [],
  ) {
    const done = await this.redis.trimRecord(
      this.k.record,
      this.k.base,
      this.k.ids,
      count,
      firstHash,
      `${newBase.seq} ${newBase.hash}`,
      ...streamIds,
    );
    return done === 1;
  }

  /** Appends chained entries in one step; 'conflict' means read the head (and ids) again. */
  async append(expectedSeq: number, headHash: string, entries: { id: string; stored: string }[]) {
    const args = entries.flatMap((e) => [e.id, e.stored]);
    const result = await this.redis.appendRecord(
      this.k.record,
      this.k.head,
      this.k.ids,
      expectedSeq,
      headHash,
      ...args,
    );
    return result === 1 ? 'appended' : 'conflict';
  }

  /** Which of these envelope ids are in the record already. */
  async recorded(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const seqs = await this.redis.hmget(this.k.ids, ...ids);
    return new Set(ids.filter((_, i) => seqs[i] !== null));
  }

  async ackStreamMany(group: string, streamIds: readonly string[]): Promise<void> {
    if (streamIds.length > 0) await this.redis.xack(this.k.stream, group, ...streamIds);
  }

  /** Entries with seq > after (in order), at most `limit`. */
  async entries(after: number, limit: number): Promise<string[]> {
    // The list starts after the retention base, so list positions are seqs shifted by it.
    return this.redis.readRecord(this.k.record, this.k.base, after, limit);
  }

  /** The whole record, in order. */
  async allEntries(): Promise<string[]> {
    const all: string[] = [];
    for (;;) {
      const chunk = await this.redis.lrange(this.k.record, all.length, all.length + 999);
      if (chunk.length === 0) return all;
      all.push(...chunk);
    }
  }

  async length(): Promise<number> {
    return this.redis.llen(this.k.record);
  }

  async trackAlert(alert: AlertState, dueAt: number | undefined): Promise<void> {
    const { id, from, to, precedence, acceptedAt } = alert;
    await this.redis.hset(this.k.alert(id), { id, from, to, precedence, acceptedAt });
    await this.redis.pexpire(this.k.alert(id), this.alertTtlMs);
    const acked = await this.redis.hexists(this.k.alert(id), 'ackedAt');
    if (dueAt !== undefined && !acked) await this.redis.zadd(this.k.due, dueAt, id);
  }

  /** Marks an alert acknowledged (first time only) and takes it off the escalation clock. */
  async acknowledgeAlert(id: string, by: string, at: number): Promise<void> {
    const key = this.k.alert(id);
    await this.redis.hsetnx(key, 'ackedAt', at);
    await this.redis.pexpire(key, this.alertTtlMs);
    await this.redis.hsetnx(key, 'ackedBy', by);
    await this.redis.zrem(this.k.due, id);
  }

  async alert(id: string): Promise<AlertState | undefined> {
    const fields = await this.redis.hgetall(this.k.alert(id));
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
    return this.redis.claimDue(this.k.due, now, now + leaseMs);
  }

  /** An escalation was delivered: off the clock for good. */
  async escalated(id: string, at: number): Promise<void> {
    await this.redis.hset(this.k.alert(id), 'escalatedAt', at);
    await this.redis.zrem(this.k.due, id);
  }

  /**
   * The acceptance time of the oldest envelope not yet recorded (pending with a replica, or not
   * yet delivered to the group), or undefined when the hub is up to date. Escalation waits for
   * it: an acknowledgement sent in time but still in the backlog must not be outrun.
   */
  async frontier(group: string): Promise<number | undefined> {
    const pending = (await this.redis.xpending(this.k.stream, group)) as [
      number,
      string | null,
      ...unknown[],
    ];
    const groups = (await this.redis.xinfo('GROUPS', this.k.stream)) as unknown[][];
    const info = groups.map((g) => Object.fromEntries(pairs(g))).find((g) => g.name === group);
    const next = info
      ? await this.redis.xrange(this.k.stream, `(${info['last-delivered-id']}`, '+', 'COUNT', 1)
      : [];
    const ids = [pending[0] > 0 ? pending[1] : null, next[0]?.[0] ?? null].filter(
      (id): id is string => Boolean(id),
    );
    if (ids.length === 0) return undefined;
    return Math.min(...ids.map((id) => Number(id.slice(0, id.indexOf('-')))));
  }

  /** Drops stream items every replica is done with (recorded and acknowledged), nothing else. */
  async trimStream(group: string): Promise<void> {
    const pending = (await this.redis.xpending(this.k.stream, group)) as [
      number,
      string | null,
      ...unknown[],
    ];
    const groups = (await this.redis.xinfo('GROUPS', this.k.stream)) as unknown[][];
    const info = groups.map((g) => Object.fromEntries(pairs(g))).find((g) => g.name === group);
    const lastDelivered = info?.['last-delivered-id'] as string | undefined;
    const keepFrom =
      pending[0] > 0
        ? pending[1]
        : lastDelivered && lastDelivered !== '0-0'
          ? `(${lastDelivered}`
          : null;
    if (!keepFrom) return;
    // MINID keeps ids >= the bound; for "after last delivered", keep from its successor.
    const bound = keepFrom.startsWith('(') ? successor(keepFrom.slice(1)) : keepFrom;
    await this.redis.xtrim(this.k.stream, 'MINID', bound);
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.redis.publish(channel, message);
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.redis.quit(), this.reader.quit()]);
  }
}

function pairs(flat: unknown[]): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([String(flat[i]), flat[i + 1]]);
  return out;
}

/** The stream id right after `id` (same millisecond, next sequence number). */
function successor(id: string): string {
  const [ms, seq] = id.split('-') as [string, string];
  return `${ms}-${BigInt(seq) + 1n}`;
}

function toItem([streamId, fields]: [string, string[]]): StreamItem {
  const map: Record<string, string> = {};
  for (let i = 0; i < fields.length; i += 2) map[fields[i] as string] = fields[i + 1] as string;
  return { streamId, meta: map.meta ?? '{}', envelope: map.envelope ?? '' };
}
