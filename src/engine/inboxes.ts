import { LiaisonError } from '../errors.js';

/** One envelope as stored in a device's inbox. `envelope` is the JSON text as accepted. */
export interface StoredItem {
  readonly offset: number;
  readonly acceptedAt: number;
  readonly id: string;
  readonly sender: string;
  readonly envelope: string;
}

export interface AcceptRequest {
  readonly id: string;
  /** Sending device, stamped from the authenticated session. */
  readonly sender: string;
  /** The envelope's JSON text, stored and relayed as is. */
  readonly envelope: string;
  /** Every device that gets a copy in its inbox (not the hub: it reads the hub stream). */
  readonly devices: readonly string[];
  /** The hub stream item's metadata (protocol/v1/hub-stream.ts), as JSON text. */
  readonly meta: string;
  /**
   * Fixed-window counters checked in the same step (one per addressed office pair): when one is
   * over `max`, nothing is stored and the result says `rateLimited`. A repeat is not counted.
   */
  readonly rate: {
    readonly keys: readonly string[];
    readonly windowMs: number;
    readonly max: number;
  };
}

export interface AcceptResult {
  readonly duplicate: boolean;
  /** True when a rate counter was over its limit: nothing was stored, seq and offsets are 0/empty. */
  readonly rateLimited: boolean;
  /** A recipient device whose inbox is full (MAX_INBOX_ITEMS): nothing was stored either. */
  readonly fullInbox?: string;
  readonly seq: number;
  readonly acceptedAt: number;
  /** Inbox offset per device; empty for a duplicate. */
  readonly offsets: Readonly<Record<string, number>>;
  /** True when the store's own answer was lost and its acceptance record answered instead. */
  readonly late?: boolean;
}

/**
 * Most envelope bytes one fetch returns (besides the first item, which always comes): with 64 KiB
 * envelopes a page of 500 would otherwise be 32 MB, held in Redis's reply and the gateway's memory.
 */
export const MAX_PAGE_BYTES = 1024 * 1024;

/**
 * Most items one device's inbox holds: a sender addressing a full inbox gets INBOX_FULL (nothing is
 * stored for anyone), so an office that never reads cannot grow Redis without bound.
 */
export const MAX_INBOX_ITEMS = 10_000;

/** An inbox entry whose body the store no longer holds (deleted or overwritten in Redis). */
export interface LostItem {
  readonly offset: number;
  readonly id: string;
}

export interface FetchResult {
  readonly items: StoredItem[];
  /** Entries of the page whose body is gone, in offset order; reported, never skipped in silence. */
  readonly lost: LostItem[];
  readonly more: boolean;
  /** Offsets that were stored but can no longer be delivered; never silent. */
  readonly gap: { from: number; to: number; reason: 'expired' | 'trimmed' } | null;
}

/**
 * Durable per-device inboxes and idempotent acceptance: the relay's hot path. `accept` stores,
 * counts the rate, pushes to each device's channel and appends to the hub stream in one step.
 * An envelope's body is stored once however many inboxes hold it; inbox entries refer to it, and
 * it is deleted when the last of them is acknowledged, expires or is dropped.
 */
export interface Inboxes {
  /**
   * Stores an envelope once for every device, then pushes `deliveryMessage(...)` on each device's
   * channel; a repeated id returns the first result and pushes nothing.
   */
  accept(request: AcceptRequest): Promise<AcceptResult>;
  /** The first acceptance of an envelope id, if it was accepted (and is within retention). */
  acceptedBefore(id: string): Promise<{ sender: string; seq: number; acceptedAt: number } | null>;
  /**
   * Items after `after`, in order: at most `limit`, and no more envelope bytes than `maxBytes`
   * (default MAX_PAGE_BYTES) beyond the first item; expired items are dropped and reported, and
   * entries whose body is gone are reported in `lost` (they count towards `limit`).
   */
  fetch(device: string, after: number, limit: number, maxBytes?: number): Promise<FetchResult>;
  /** Removes everything up to `upTo`; returns what was removed (for delivered receipts). */
  ack(device: string, upTo: number): Promise<{ id: string; sender: string }[]>;
  /** How many items wait in a device's inbox. */
  pending(device: string): Promise<number>;
  /** Deletes a device's inbox (device revoked or removed). */
  dropInbox(device: string): Promise<void>;
}

/**
 * The hole a fetch must report: offsets after `from` that expired before the first item still
 * kept (`firstKept`), or null when there is none.
 */
export function expiredGap(
  expiredUpTo: number,
  from: number,
  firstKept: number,
): FetchResult['gap'] {
  if (expiredUpTo <= from || firstKept <= from + 1) return null;
  return { from: from + 1, to: Math.min(expiredUpTo, firstKept - 1), reason: 'expired' };
}

/** What `accept` publishes on a device's channel (the Redis engine builds the same text in Lua). */
export const deliveryMessage = (offset: number, acceptedAt: number, envelope: string) =>
  `{"type":"envelope","offset":${offset},"acceptedAt":${acceptedAt},"envelope":${envelope}}`;

/** An envelope id already accepted from another sender cannot be reused. */
export const idTaken = () =>
  new LiaisonError('VALIDATION_FAILED', 'envelope id already used by another sender');
