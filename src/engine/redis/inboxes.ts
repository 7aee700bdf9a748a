import {
  type AcceptRequest,
  type AcceptResult,
  expiredGap,
  type FetchResult,
  type Inboxes,
  idTaken,
  type LostItem,
  MAX_INBOX_ITEMS,
  MAX_PAGE_BYTES,
  type StoredItem,
} from '../inboxes.js';
import { channels } from '../keyspace.js';
import {
  attemptTag,
  outcomeUnknown,
  parseRecord,
  readAfter,
  storedUnknown,
} from './accept-outcome.js';
import type { RedisConnection } from './connection.js';
import { ACCEPT, ACK, DROP, FETCH } from './inbox-scripts.js';

/** Parses an inbox reference `offset|id|sender|acceptedAt`. */
function parseReference(member: string) {
  const [offset, id, sender, acceptedAt] = member.split('|') as [string, string, string, string];
  return { offset: Number(offset), id, sender, acceptedAt: Number(acceptedAt) };
}

/**
 * The inboxes in Redis, shared by every gateway instance. Each step that must be atomic is a Lua
 * script (inbox-scripts.ts); accepting an envelope is one round trip. Bodies are stored once
 * (keyspace `envelope`), inbox entries refer to them.
 */
export class RedisInboxes implements Inboxes {
  private readonly scripts;
  /** Body keys are this prefix and the envelope id. */
  private readonly bodies: string;

  constructor(
    private readonly connection: RedisConnection,
    private readonly retentionMs: number,
    private readonly maxInboxItems = MAX_INBOX_ITEMS,
  ) {
    this.scripts = {
      accept: connection.script('accept', ACCEPT),
      fetch: connection.script('fetch', FETCH, 2),
      ack: connection.script('ack', ACK, 2),
      drop: connection.script('drop', DROP, 2),
    };
    this.bodies = connection.keys.envelope('');
  }

  /**
   * Accepts whose answer did not come in time, and how they ended: `settled` when the acceptance
   * record answered for them, `unknown` when nothing did (UNAVAILABLE, `stored: 'unknown'`).
   * For metrics and tests.
   */
  readonly late = { timedOut: 0, settled: 0, unknown: 0 };

  async accept(request: AcceptRequest): Promise<AcceptResult> {
    const { rate } = request;
    const k = this.connection.keys;
    const keys = [
      k.accepted(request.id),
      k.sequence(request.sender),
      k.hubStream,
      k.envelope(request.id),
    ];
    for (const key of rate.keys) keys.push(k.counter(key));
    for (const device of request.devices) keys.push(...this.inboxKeys(device));
    const attempt = attemptTag();
    let reply: [number, string, ...number[]];
    try {
      reply = (await this.scripts.accept(
        keys.length,
        ...keys,
        request.id,
        request.sender,
        request.envelope,
        this.retentionMs,
        request.meta,
        rate.windowMs,
        rate.max,
        rate.keys.length,
        this.maxInboxItems,
        this.bodies,
        attempt,
        ...request.devices.map((device) => k.channel(channels.device(device))),
      )) as typeof reply;
    } catch (error) {
      if (!outcomeUnknown(error)) throw error;
      return this.settle(request, attempt);
    }
    const [status, record, ...offsetList] = reply;
    if (status === 2)
      return { duplicate: false, rateLimited: true, seq: 0, acceptedAt: 0, offsets: {} };
    if (status === 3) {
      const fullInbox = request.devices[Number(record) - 1];
      return {
        duplicate: false,
        rateLimited: false,
        fullInbox,
        seq: 0,
        acceptedAt: 0,
        offsets: {},
      };
    }
    const { sender, seq, acceptedAt } = parseRecord(record);
    if (sender !== request.sender) throw idTaken();
    const offsets: Record<string, number> = {};
    request.devices.forEach((device, i) => {
      if (status === 0) offsets[device] = Number(offsetList[i]);
    });
    return { duplicate: status === 1, rateLimited: false, seq, acceptedAt, offsets };
  }

  /**
   * The answer to an accept whose reply was lost: the acceptance record, read after it on the
   * same connection, says whether the id is stored and whether this call stored it. Without a
   * record the script did not store it but the reason (rate, full inbox) is lost, and without
   * any answer nothing is known: both UNAVAILABLE, and the resend with the same id tells.
   */
  private async settle(request: AcceptRequest, attempt: string): Promise<AcceptResult> {
    this.late.timedOut++;
    const record = await readAfter(
      this.connection.redis,
      this.connection.keys.accepted(request.id),
    );
    if (!record) {
      this.late.unknown++;
      throw storedUnknown();
    }
    const found = parseRecord(record);
    if (found.sender !== request.sender) throw idTaken();
    this.late.settled++;
    return {
      duplicate: found.attempt !== attempt,
      rateLimited: false,
      seq: found.seq,
      acceptedAt: found.acceptedAt,
      offsets: {},
      late: true,
    };
  }

  async acceptedBefore(id: string) {
    const record = await this.connection.redis.get(this.connection.keys.accepted(id));
    if (!record) return null;
    const { sender, seq, acceptedAt } = parseRecord(record);
    return { sender, seq, acceptedAt };
  }

  async fetch(
    device: string,
    after: number,
    limit: number,
    maxBytes = MAX_PAGE_BYTES,
  ): Promise<FetchResult> {
    // Expired items go in bounded steps, each a short script call, before the page is read.
    let reply: [number, number, number, number, (string | null)[], number];
    do {
      reply = (await this.scripts.fetch(
        ...this.inboxKeys(device),
        after,
        limit,
        this.retentionMs,
        maxBytes,
        this.bodies,
      )) as typeof reply;
    } while (reply[5] === 0);
    const [expired, from, next, more, pairs] = reply;
    const items: StoredItem[] = [];
    const lost: LostItem[] = [];
    for (let i = 0; i < pairs.length; i += 2) {
      const reference = parseReference(pairs[i] as string);
      const envelope = pairs[i + 1];
      if (typeof envelope === 'string') items.push({ ...reference, envelope });
      else lost.push({ offset: reference.offset, id: reference.id });
    }
    const firstKept = pairs[0] ? parseReference(pairs[0]).offset : next + 1;
    return { items, lost, more: more === 1, gap: expiredGap(expired, from, firstKept) };
  }

  async ack(device: string, upTo: number) {
    // A large ack goes in bounded steps (STEP_ITEMS each), so no one call blocks Redis for long.
    const removed: { id: string; sender: string }[] = [];
    for (;;) {
      const [done, ...flat] = (await this.scripts.ack(
        ...this.inboxKeys(device),
        upTo,
        this.bodies,
      )) as [number, ...string[]];
      for (let i = 0; i < flat.length; i += 2) {
        removed.push({ id: flat[i] as string, sender: flat[i + 1] as string });
      }
      if (done === 1) return removed;
    }
  }

  async pending(device: string): Promise<number> {
    return this.connection.redis.zcard(this.connection.keys.inbox(device));
  }

  async dropInbox(device: string): Promise<void> {
    // In bounded steps, each releasing the bodies of the entries it removes.
    while ((await this.scripts.drop(...this.inboxKeys(device), this.bodies)) !== 1);
  }

  private inboxKeys(device: string): [string, string] {
    return [this.connection.keys.inbox(device), this.connection.keys.inboxMeta(device)];
  }
}
