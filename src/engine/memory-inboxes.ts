import type { MemoryCounters } from './counters.js';
import {
  type AcceptRequest,
  type AcceptResult,
  deliveryMessage,
  expiredGap,
  type FetchResult,
  type Inboxes,
  idTaken,
  type LostItem,
  MAX_INBOX_ITEMS,
  MAX_PAGE_BYTES,
  type StoredItem,
} from './inboxes.js';
import { channels } from './keyspace.js';
import type { MemoryPubSub } from './pubsub.js';

/** Envelopes the in-memory hub feed keeps. */
const MAX_HUB_FEED = 10_000;

/** An inbox entry: a reference to the envelope's body, kept once in `bodies`. */
type Reference = Omit<StoredItem, 'envelope'>;

interface Inbox {
  items: Reference[];
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
  /** Each accepted envelope's text, once, with how many inbox entries refer to it. */
  readonly bodies = new Map<string, { envelope: string; refs: number }>();
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
      // As in Redis: expired items are dropped here only from an inbox that is full.
      if (inbox && inbox.items.length >= maxItems) this.expire(inbox);
      if (inbox && inbox.items.length >= maxItems) {
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
    if (request.devices.length > 0) {
      const refs = this.bodies.get(request.id)?.refs ?? 0;
      this.bodies.set(request.id, {
        envelope: request.envelope,
        refs: refs + request.devices.length,
      });
    }
    for (const device of request.devices) {
      const inbox = this.inbox(device);
      inbox.next += 1;
      inbox.touchedAt = now;
      inbox.items.push({
        offset: inbox.next,
        acceptedAt: now,
        id: request.id,
        sender: request.sender,
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
    if (!inbox) return { items: [], lost: [], more: false, gap: null };
    const expired = this.expire(inbox);
    const from = Math.max(after, inbox.acked);
    const pending = inbox.items.filter((item) => item.offset > from);
    const items: StoredItem[] = [];
    const lost: LostItem[] = [];
    let bytes = 0;
    for (const item of pending) {
      const envelope = this.bodies.get(item.id)?.envelope;
      const size = envelope === undefined ? 0 : Buffer.byteLength(envelope);
      const count = items.length + lost.length;
      if (count === limit || (count > 0 && bytes + size > maxBytes)) break;
      if (envelope === undefined) lost.push({ offset: item.offset, id: item.id });
      else items.push({ ...item, envelope });
      bytes += size;
    }
    const firstKept = pending[0]?.offset ?? inbox.next + 1;
    return {
      items,
      lost,
      more: pending.length > items.length + lost.length,
      gap: expiredGap(expired, from, firstKept),
    };
  }

  async ack(device: string, upTo: number) {
    const inbox = this.inboxes.get(device);
    if (!inbox) return [];
    const removed = inbox.items.filter((item) => item.offset <= upTo);
    inbox.items = inbox.items.filter((item) => item.offset > upTo);
    for (const item of removed) this.release(item.id);
    inbox.acked = Math.max(inbox.acked, Math.min(upTo, inbox.next));
    return removed.map(({ id, sender }) => ({ id, sender }));
  }

  async pending(device: string): Promise<number> {
    return this.inboxes.get(device)?.items.length ?? 0;
  }

  async dropInbox(device: string): Promise<void> {
    for (const item of this.inboxes.get(device)?.items ?? []) this.release(item.id);
    this.inboxes.delete(device);
  }

  /** One inbox entry less refers to the body: deleted at zero. */
  private release(id: string): void {
    const body = this.bodies.get(id);
    if (body && --body.refs <= 0) this.bodies.delete(id);
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
      const item = inbox.items.shift() as Reference;
      this.release(item.id);
      inbox.expiredUpTo = item.offset;
    }
    return inbox.expiredUpTo ?? 0;
  }
}
