import type { RedisConnection } from '../engine/redis/connection.js';
import { GENESIS } from './record.js';

/**
 * Appends a batch of chained entries only if the head is still where the writer read it and none
 * of their envelope ids is recorded yet. ARGV: expected seq, new head hash, then (id, entry) pairs.
 * Returns 1 when appended, 0 when the head moved, -1 when an id was recorded meanwhile.
 */
const APPEND = `
local ids, entries, seqs = {}, {}, {}
for i = 3, #ARGV, 2 do ids[#ids + 1] = ARGV[i] end
if #ids == 0 then return 1 end
for _, seq in ipairs(redis.call('HMGET', KEYS[3], unpack(ids))) do
  if seq then return -1 end
end
local head = redis.call('GET', KEYS[2])
local seq = 0
if head then seq = tonumber(string.match(head, '^(%d+)')) end
if seq ~= tonumber(ARGV[1]) then return 0 end
-- One RPUSH and one HSET for the batch: each call from Lua has a cost of its own.
for i = 3, #ARGV, 2 do
  seq = seq + 1
  entries[#entries + 1] = ARGV[i + 1]
  seqs[#seqs + 1] = ARGV[i]
  seqs[#seqs + 1] = seq
end
redis.call('RPUSH', KEYS[1], unpack(entries))
redis.call('HSET', KEYS[3], unpack(seqs))
redis.call('SET', KEYS[2], seq .. ' ' .. ARGV[2])
return 1
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

/** A `<seq> <hash>` pointer (head or base), or the genesis when there is none yet. */
function pointer(text: string | null): { seq: number; hash: string } {
  if (!text) return { seq: 0, hash: GENESIS };
  const [seq, hash] = text.split(' ') as [string, string];
  return { seq: Number(seq), hash };
}

/**
 * The hash-chained record in Redis: a list of stored entries (`<hash> <body JSON>`), its head and
 * base pointers, and which stream ids are recorded (what recording is idempotent by).
 */
export class RecordLog {
  private readonly scripts;

  constructor(private readonly connection: RedisConnection) {
    this.scripts = {
      append: connection.script('appendRecord', APPEND, 3),
      read: connection.script('readRecord', READ, 2),
      trim: connection.script('trimRecord', TRIM, 3),
    };
  }

  /** Sequence number and hash of the last entry. */
  async head(): Promise<{ seq: number; hash: string }> {
    const head = pointer(await this.connection.redis.get(this.connection.keys.recordHead));
    this.highestSeen = Math.max(this.highestSeen, head.seq);
    return head;
  }

  /**
   * The furthest head this process has read: a record whose head is now behind it lost entries
   * (a Redis evicting keys drops the record whole, base and head with it).
   */
  highestSeen = 0;

  /** Where the kept record starts: the seq and hash of the last entry dropped by retention. */
  async base(): Promise<{ seq: number; hash: string }> {
    return pointer(await this.connection.redis.get(this.connection.keys.recordBase));
  }

  /** Appends chained entries in one step; 'conflict' means read the head (and ids) again. */
  async append(
    expectedSeq: number,
    headHash: string,
    entries: { id: string; stored: string | Buffer }[],
  ) {
    const k = this.connection.keys;
    const result = await this.scripts.append(
      k.record,
      k.recordHead,
      k.recordIds,
      expectedSeq,
      headHash,
      ...entries.flatMap((e) => [e.id, e.stored]),
    );
    return result === 1 ? 'appended' : 'conflict';
  }

  /** Which of these stream ids are in the record already. */
  async recorded(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const seqs = await this.connection.redis.hmget(this.connection.keys.recordIds, ...ids);
    return new Set(ids.filter((_, i) => seqs[i] !== null));
  }

  /** Entries with seq > after (in order), at most `limit`. */
  async entries(after: number, limit: number): Promise<string[]> {
    // The list starts after the retention base, so list positions are seqs shifted by it.
    const k = this.connection.keys;
    return (await this.scripts.read(k.record, k.recordBase, after, limit)) as string[];
  }

  /** The whole record, in order. */
  async allEntries(): Promise<string[]> {
    const all: string[] = [];
    for (;;) {
      const chunk = await this.connection.redis.lrange(
        this.connection.keys.record,
        all.length,
        all.length + 999,
      );
      if (chunk.length === 0) return all;
      all.push(...chunk);
    }
  }

  async length(): Promise<number> {
    return this.connection.redis.llen(this.connection.keys.record);
  }

  /** Drops `count` entries from the start if the first is still `firstHash`. */
  async trim(
    count: number,
    firstHash: string,
    newBase: { seq: number; hash: string },
    streamIds: readonly string[] = [],
  ) {
    const k = this.connection.keys;
    const done = await this.scripts.trim(
      k.record,
      k.recordBase,
      k.recordIds,
      count,
      firstHash,
      `${newBase.seq} ${newBase.hash}`,
      ...streamIds,
    );
    return done === 1;
  }
}
