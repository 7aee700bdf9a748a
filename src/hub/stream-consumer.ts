import type { Redis } from 'ioredis';
import type { HubStreamItem } from '../../protocol/v1/hub-stream.js';
import type { RedisConnection } from '../engine/redis/connection.js';

type StreamEntry = [string, string[]];

/** A stream entry's fields as the item the recorder reads (see protocol/v1/hub-stream.ts). */
function toItem([streamId, fields]: StreamEntry): HubStreamItem {
  const map: Record<string, string> = {};
  for (let i = 0; i < fields.length; i += 2) map[fields[i] as string] = fields[i + 1] as string;
  return { streamId, meta: map.meta ?? '{}', envelope: map.envelope ?? '' };
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

/**
 * The hub's side of the gateway's accepted-envelope stream: every hub replica reads it through
 * one consumer group, so each item is recorded by one replica, and a dead one's work is taken over.
 */
export class StreamConsumer {
  constructor(
    private readonly connection: RedisConnection,
    /** XREADGROUP blocks: it gets a connection of its own. */
    private readonly blocking: Redis,
  ) {}

  private get stream() {
    return this.connection.keys.hubStream;
  }

  /** Creates the consumer group once; every hub replica joins it. */
  async ensureGroup(group: string): Promise<void> {
    try {
      await this.connection.redis.xgroup('CREATE', this.stream, group, '0', 'MKSTREAM');
    } catch (error) {
      if (!String(error).includes('BUSYGROUP')) throw error;
    }
  }

  /**
   * The next items for this consumer: first those another replica took and left unacknowledged
   * for `staleMs` (it died), then new ones, waiting up to `blockMs` for them.
   */
  async read(
    group: string,
    consumer: string,
    count: number,
    blockMs: number,
    staleMs: number,
  ): Promise<HubStreamItem[]> {
    const claimed = (await this.connection.redis.xautoclaim(
      this.stream,
      group,
      consumer,
      staleMs,
      '0',
      'COUNT',
      count,
    )) as [string, StreamEntry[]];
    // Entries deleted from the stream come back as null: nothing to record for them.
    const stale = claimed[1].filter((entry) => entry?.[1]);
    if (stale.length > 0) return stale.map(toItem);
    // BLOCK 0 would wait for ever: without a wait, ask without BLOCK.
    const block = blockMs > 0 ? ['BLOCK', blockMs] : [];
    const reply = (await this.blocking.xreadgroup(
      'GROUP',
      group,
      consumer,
      'COUNT',
      count,
      ...(block as ['BLOCK', number]),
      'STREAMS',
      this.stream,
      '>',
    )) as [string, StreamEntry[]][] | null;
    return (reply?.[0]?.[1] ?? []).map(toItem);
  }

  /** These items are recorded: the group is done with them. */
  async ackStreamMany(group: string, streamIds: readonly string[]): Promise<void> {
    if (streamIds.length > 0) await this.connection.redis.xack(this.stream, group, ...streamIds);
  }

  /**
   * The acceptance time of the oldest envelope not yet recorded (pending with a replica, or not
   * yet delivered to the group), or undefined when the hub is up to date. Escalation waits for
   * it: an acknowledgement sent in time but still in the backlog must not be outrun.
   */
  async frontier(group: string): Promise<number | undefined> {
    const { oldestPending, lastDelivered } = await this.groupState(group);
    const next = lastDelivered
      ? await this.connection.redis.xrange(this.stream, `(${lastDelivered}`, '+', 'COUNT', 1)
      : [];
    const ids = [oldestPending, next[0]?.[0] ?? null].filter((id): id is string => Boolean(id));
    if (ids.length === 0) return undefined;
    return Math.min(...ids.map((id) => Number(id.slice(0, id.indexOf('-')))));
  }

  /** Drops stream items every replica is done with (recorded and acknowledged), nothing else. */
  async trimStream(group: string): Promise<void> {
    const { oldestPending, lastDelivered } = await this.groupState(group);
    const keepFrom =
      oldestPending ?? (lastDelivered && lastDelivered !== '0-0' ? `(${lastDelivered}` : null);
    if (!keepFrom) return;
    // MINID keeps ids >= the bound; for "after last delivered", keep from its successor.
    const bound = keepFrom.startsWith('(') ? successor(keepFrom.slice(1)) : keepFrom;
    await this.connection.redis.xtrim(this.stream, 'MINID', bound);
  }

  /** The oldest item a replica holds unacknowledged, and the last id the group handed out. */
  private async groupState(group: string) {
    const { redis } = this.connection;
    const pending = (await redis.xpending(this.stream, group)) as [
      number,
      string | null,
      ...unknown[],
    ];
    const groups = (await redis.xinfo('GROUPS', this.stream)) as unknown[][];
    const info = groups.map((g) => Object.fromEntries(pairs(g))).find((g) => g.name === group);
    return {
      oldestPending: pending[0] > 0 ? pending[1] : null,
      lastDelivered: info?.['last-delivered-id'] as string | undefined,
    };
  }
}
