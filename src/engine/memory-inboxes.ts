import type { MemoryCounters } from './counters.js';
import {
  type AcceptRequest,
  type AcceptResult,
  deliveryMessage,
  expiredGap,
  type FetchResult,
  type Inboxes,
  idTaken,
  MAX_INBOX_ITEMS,
  MAX_PAGE_BYTES,
  type StoredItem,
} from './inboxes.js';
import { channels } from './keyspace.js';
import type { MemoryPubSub } from './pubsub.js';

/** Envelopes the in-memory hub feed keeps. */
const MAX_HUB_FEED = 10_000;

interface Inbox {
  items: StoredItem[];
  next: number;
  acked: number;
  touchedAt: number;
  expiredUpTo?: number;
}

export interface MemoryInboxesOptions {
  /** How long an inbox item and an idempotency record are kept (ms). */
  readonly retentionMs: number;
  readonly clock: () => number;
  /** Rate counters, checked in the same synchronous step as the store. */
  readonly counters: MemoryCounters;
  /** Where stored envelopes are pushed. */
  readonly pubsub: MemoryPubSub;
  /** Most items one inbox holds (default MAX_INBOX_ITEMS). */
  readonly maxInboxItems?: number;
}

/** The inboxes of one process. */
export class MemoryInboxes implements Inboxes {
  private readonly inboxes = new Map<string, Inbox>();
  private readonly accepted = new Map<
    string,
    { sender: string; result: AcceptResult; until: number }
  >();
  private readonly sequences = new Map<string, number>();
  /** What the hub stream would hold: every accepted envelope's metadata and text. */
  readonly hubStream: { meta: string; envelope: string }[] = [];

  constructor(private readonly options: MemoryInboxesOptions) {}

  async accept(request: AcceptRequest): Promise<AcceptResult> {
    const { clock, counters, retentionMs } = this.options;
    const now = clock();
    const previous = this.accepted.get(request.id);
    if (previous && previous.until > now) {
      if (previous.sender !== request.sender) throw idTaken();
      return { ...previous.result, duplicate: true, offsets: {} };
    }
    const maxItems = this.options.maxInboxItems ?? MAX_INBOX_ITEMS;
    for (const device of request.devices) {
      const inbox = this.inboxes.get(device);
      if (!inbox) continue;
      this.expire(inbox);
      if (inbox.items.length >= maxItems) {
        return {
          duplicate: false,
          rateLimited: false,
          fullInbox: device,
          seq: 0,
          acceptedAt: 0,
          offsets: {},
        };
      }
    }
    for (const key of request.rate.keys) {
      if (counters.count(key, request.rate.windowMs) > request.rate.max) {
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
    this.accepted.set(request.id, { sender: request.sender, result, until: now + retentionMs });
    if (this.accepted.size % 10_000 === 0) {
      for (const [id, entry] of this.accepted) if (entry.until <= now) this.accepted.delete(id);
    }
    for (const [device, offset] of Object.entries(offsets)) {
      void this.options.pubsub.publish(
        channels.device(device),
        deliveryMessage(offset, now, request.envelope),
      );
    }
    return result;
  }

  async acceptedBefore(id: string) {
    const previous = this.accepted.get(id);
    if (!previous || previous.until <= this.options.clock()) return null;
    const { seq, acceptedAt } = previous.result;
    return { sender: previous.sender, seq, acceptedAt };
  }

  async fetch(
    device: string,
    after: number,
    limit: number,
    maxBytes = MAX_PAGE_BYTES,
  ): Promise<FetchResult> {
    const inbox = this.inboxes.get(device);
    if (!inbox) return { items: [], more: false, gap: null };
    const expired = this.expire(inbox);
    const from = Math.max(after, inbox.acked);
    const pending = inbox.items.filter((item) => item.offset > from);
    const items: StoredItem[] = [];
    let bytes = 0;
    for (const item of pending) {
      const size = Buffer.byteLength(item.envelope);
      if (items.length === limit || (items.length > 0 && bytes + size > maxBytes)) break;
      items.push(item);
      bytes += size;
    }
    const firstKept = pending[0]?.offset ?? inbox.next + 1;
    return {
      items,
      more: pending.length > items.length,
      gap: expiredGap(expired, from, firstKept),
    };
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

  private inbox(device: string): Inbox {
    let inbox = this.inboxes.get(device);
    if (!inbox) {
      inbox = { items: [], next: 0, acked: 0, touchedAt: this.options.clock() };
      this.inboxes.set(device, inbox);
    }
    return inbox;
  }

  /** Drops items past retention; returns the highest offset dropped so far (0 if none). */
  private expire(inbox: Inbox): number {
    const cutoff = this.options.clock() - this.options.retentionMs;
    while (inbox.items[0] && inbox.items[0].acceptedAt <= cutoff) {
      inbox.expiredUpTo = (inbox.items.shift() as StoredItem).offset;
    }
    return inbox.expiredUpTo ?? 0;
  }
}
