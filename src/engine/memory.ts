import type {
  AcceptRequest,
  AcceptResult,
  Engine,
  FetchResult,
  Handler,
  StoredItem,
} from './engine.js';
import { channels, deliveryMessage, expiredGap, idTaken } from './engine.js';

/** Envelopes the in-memory hub feed keeps. */
const MAX_HUB_FEED = 10_000;

interface Inbox {
  items: StoredItem[];
  next: number;
  acked: number;
  touchedAt: number;
}

export interface MemoryEngineOptions {
  /** How long an inbox item and an idempotency record are kept (ms). */
  readonly retentionMs: number;
  readonly clock?: () => number;
}

/**
 * The engine in one process: for the quick start and for tests of the contract. Nothing survives
 * a restart; it says so in the gateway's start-up log.
 */
export class MemoryEngine implements Engine {
  readonly kind = 'memory';
  private readonly inboxes = new Map<string, Inbox>();
  private readonly accepted = new Map<
    string,
    { sender: string; result: AcceptResult; until: number }
  >();
  private readonly sequences = new Map<string, number>();
  private readonly claims = new Map<string, number>();
  private readonly windows = new Map<string, { count: number; until: number }>();
  private readonly statements: string[] = [];
  private readonly presence = new Map<string, Map<string, number>>();
  private readonly handlers = new Map<string, Set<Handler>>();
  /** What the hub stream would hold: every accepted envelope's metadata and text. */
  readonly hubStream: { meta: string; envelope: string }[] = [];
  private readonly retentionMs: number;
  private readonly clock: () => number;

  constructor(options: MemoryEngineOptions) {
    this.retentionMs = options.retentionMs;
    this.clock = options.clock ?? Date.now;
  }

  async accept(request: AcceptRequest): Promise<AcceptResult> {
    const now = this.clock();
    const previous = this.accepted.get(request.id);
    if (previous && previous.until > now) {
      if (previous.sender !== request.sender) throw idTaken();
      return { ...previous.result, duplicate: true, offsets: {} };
    }
    for (const key of request.rate.keys) {
      if (this.count(key, request.rate.windowMs) > request.rate.max) {
        return { duplicate: false, rateLimited: true, seq: 0, acceptedAt: 0, offsets: {} };
      }
    }
    const seq = (this.sequences.get(request.sender) ?? 0) + 1;
    this.sequences.set(request.sender, seq);
    const offsets: Record<string, number> = {};
    for (const device of request.devices) {
      const inbox = this.inbox(device);
      this.expire(inbox);
      inbox.next += 1;
      inbox.touchedAt = now;
      inbox.items.push({
        offset: inbox.next,
        acceptedAt: now,
        id: request.id,
        sender: request.sender,
        envelope: request.envelope,
      });
      offsets[device] = inbox.next;
    }
    this.hubStream.push({ meta: request.meta, envelope: request.envelope });
    // One process keeps a bounded feed; the durable one is Redis's.
    if (this.hubStream.length > MAX_HUB_FEED)
      this.hubStream.splice(0, this.hubStream.length - MAX_HUB_FEED);
    const result = { duplicate: false, rateLimited: false, seq, acceptedAt: now, offsets };
    this.accepted.set(request.id, {
      sender: request.sender,
      result,
      until: now + this.retentionMs,
    });
    if (this.accepted.size % 10_000 === 0) {
      for (const [id, entry] of this.accepted) if (entry.until <= now) this.accepted.delete(id);
    }
    for (const [device, offset] of Object.entries(offsets)) {
      void this.publish(channels.device(device), deliveryMessage(offset, now, request.envelope));
    }
    return result;
  }

  async acceptedBefore(id: string) {
    const previous = this.accepted.get(id);
    if (!previous || previous.until <= this.clock()) return null;
    const { seq, acceptedAt } = previous.result;
    return { sender: previous.sender, seq, acceptedAt };
  }

  async fetch(device: string, after: number, limit: number): Promise<FetchResult> {
    const inbox = this.inboxes.get(device);
    if (!inbox) return { items: [], more: false, gap: null };
    const expired = this.expire(inbox);
    const from = Math.max(after, inbox.acked);
    const pending = inbox.items.filter((item) => item.offset > from);
    const items = pending.slice(0, limit);
    const firstKept = pending[0]?.offset ?? inbox.next + 1;
    return { items, more: pending.length > limit, gap: expiredGap(expired, from, firstKept) };
  }

  async ack(device: string, upTo: number) {
    const inbox = this.inboxes.get(device);
    if (!inbox) return [];
    const removed = inbox.items.filter((item) => item.offset <= upTo);
    inbox.items = inbox.items.filter((item) => item.offset > upTo);
    inbox.acked = Math.max(inbox.acked, Math.min(upTo, inbox.next));
    return removed.map(({ id, sender }) => ({ id, sender }));
  }

  async pending(device: string): Promise<number> {
    return this.inboxes.get(device)?.items.length ?? 0;
  }

  async dropInbox(device: string): Promise<void> {
    this.inboxes.delete(device);
  }

  async claimOnce(key: string, expiresAt: number): Promise<boolean> {
    const now = this.clock();
    const until = this.claims.get(key);
    if (until !== undefined && until > now) return false;
    this.claims.set(key, expiresAt);
    if (this.claims.size > 100_000) {
      for (const [k, v] of this.claims) if (v <= now) this.claims.delete(k);
    }
    return true;
  }

  async hit(key: string, windowMs: number): Promise<number> {
    return this.count(key, windowMs);
  }

  /** Synchronous, so `accept` checks and stores without yielding in between. */
  private count(key: string, windowMs: number): number {
    const now = this.clock();
    const window = this.windows.get(key);
    if (!window || window.until <= now) {
      this.windows.set(key, { count: 1, until: now + windowMs });
      return 1;
    }
    window.count += 1;
    return window.count;
  }

  async appendStatements(expectedVersion: number, statements: readonly string[]) {
    if (this.statements.length !== expectedVersion) return false;
    this.statements.push(...statements);
    return true;
  }

  async readStatements(after: number): Promise<string[]> {
    return this.statements.slice(after);
  }

  async touchPresence(office: string, connection: string, expiresAt: number) {
    const live = this.presence.get(office) ?? new Map<string, number>();
    live.set(connection, expiresAt);
    this.presence.set(office, live);
    return this.liveCount(live);
  }

  async dropPresence(office: string, connection: string) {
    const live = this.presence.get(office);
    if (!live) return 0;
    live.delete(connection);
    return this.liveCount(live);
  }

  async publish(channel: string, message: string): Promise<void> {
    // Asynchronous like Redis pub/sub, so callers never depend on same-tick delivery.
    const handlers = [...(this.handlers.get(channel) ?? [])];
    queueMicrotask(() => {
      for (const handler of handlers) handler(message);
    });
  }

  async subscribe(channel: string, handler: Handler): Promise<void> {
    const set = this.handlers.get(channel) ?? new Set();
    set.add(handler);
    this.handlers.set(channel, set);
  }

  async unsubscribe(channel: string, handler: Handler): Promise<void> {
    const set = this.handlers.get(channel);
    set?.delete(handler);
    if (set?.size === 0) this.handlers.delete(channel);
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    this.handlers.clear();
  }

  private inbox(device: string): Inbox {
    let inbox = this.inboxes.get(device);
    if (!inbox) {
      inbox = { items: [], next: 0, acked: 0, touchedAt: this.clock() };
      this.inboxes.set(device, inbox);
    }
    return inbox;
  }

  /** Drops items past retention; returns the highest offset dropped so far (0 if none). */
  private expire(inbox: Inbox & { expiredUpTo?: number }): number {
    const cutoff = this.clock() - this.retentionMs;
    while (inbox.items[0] && inbox.items[0].acceptedAt <= cutoff) {
      inbox.expiredUpTo = (inbox.items.shift() as StoredItem).offset;
    }
    return inbox.expiredUpTo ?? 0;
  }

  private liveCount(live: Map<string, number>): number {
    const now = this.clock();
    for (const [connection, until] of live) if (until <= now) live.delete(connection);
    return live.size;
  }
}
