import type { EnvelopeHeader } from '../../protocol/v1/envelope.js';
import { LiaisonError } from '../errors.js';

/**
 * Envelope counters (PROTOCOL.md §7.6). Each sender key counts the envelopes it seals to one set
 * of offices, from 1, in the signed header. A reader keeps, per such stream, the highest counter
 * it accepted, the newest creation time it accepted and the counters below the highest it has not
 * seen. A counter at or below the highest that is not missing, from an envelope no newer than the
 * newest, is a replay, whatever offset or time the gateway gives it. A jump past the next counter
 * means envelopes were not delivered (yet), which the reader tells its user. A lower counter on a
 * newer envelope is a sender that lost its count and started again: the stream starts over.
 */

/** One sender key writing to one set of offices: what a counter counts. */
export const counterStream = (header: {
  readonly sender: EnvelopeHeader['sender'];
  readonly to: readonly string[];
}): string => `${header.sender.deviceId}#${header.sender.keyId}>${[...header.to].sort().join(',')}`;

/** Counters not seen below the highest, as inclusive ranges, oldest first. */
export type MissingRange = readonly [from: number, to: number];

/** A missing range once `counter` has come: the range itself, split in two, shorter or gone. */
export function withoutCounter([from, to]: MissingRange, counter: number): MissingRange[] {
  if (counter < from || counter > to) return [[from, to]];
  const rest: MissingRange[] = [];
  if (from < counter) rest.push([from, counter - 1]);
  if (counter < to) rest.push([counter + 1, to]);
  return rest;
}

export interface StreamState {
  readonly high: number;
  /** The newest `createdAt` accepted in the stream. */
  readonly newest: number;
  /** When the sender last started counting again (0 if never seen): older is from before. */
  readonly since: number;
  readonly missing: readonly MissingRange[];
}

/** What a device keeps across restarts (persist `Sequences.snapshot()`). */
export interface SequenceState {
  /** The last counter used per stream this device sends on. */
  readonly sent: Readonly<Record<string, number>>;
  /** Per stream received: the highest counter and newest time accepted, what is missing below. */
  readonly received: Readonly<Record<string, StreamState>>;
  /**
   * The envelopes accepted last, oldest first, each as [id, where it was delivered] (an inbox
   * offset): the same copy fetched again is no news; the same envelope delivered anew is a replay.
   */
  readonly recent?: readonly (readonly [id: string, at: number])[];
  /**
   * Counters taken for envelopes sent with a chosen id that were not yet answered accepted, as
   * [id, counter]: a resend of that id (the answer was lost, the app restarted) seals the same
   * counter again, so readers see neither a gap nor a replay.
   */
  readonly pending?: readonly (readonly [id: string, counter: number])[];
}

/** How many unanswered sends remember their counter (an outbox holds at most 1,000 lines). */
export const PENDING_IDS = 1000;

/** How many accepted envelope ids a reader remembers. */
export const RECENT_IDS = 1000;

/**
 * How many separate gaps a stream remembers. A gap beyond it is forgotten (its envelopes, if they
 * ever come, are refused as replays): memory stays bounded whatever a gateway does.
 */
export const MAX_MISSING_RANGES = 256;

/** What a newly accepted counter means. */
export type Observation =
  /** The next one, or past a gap: `missing` are the counters skipped now (possibly missing). */
  | { readonly kind: 'next'; readonly missing?: MissingRange }
  /** One reported missing before, arriving late: no longer missing. */
  | { readonly kind: 'late' }
  /** A lower counter on a newer envelope: the sender started counting again. */
  | { readonly kind: 'restarted' }
  /** One of the last envelopes accepted, fetched again: already shown, not news. */
  | { readonly kind: 'duplicate' };

export class Sequences {
  private readonly sent: Map<string, number>;
  private readonly received: Map<string, StreamState>;
  private readonly recent: Map<string, number>;
  private readonly pending: Map<string, number>;

  constructor(state?: SequenceState) {
    this.sent = new Map(Object.entries(state?.sent ?? {}));
    this.received = new Map(Object.entries(state?.received ?? {}));
    this.recent = new Map(state?.recent ?? []);
    this.pending = new Map(state?.pending ?? []);
  }

  /**
   * Takes the counter for the next envelope a sender seals to `to` (persist before sending). With
   * `id`, a counter taken for that id before and not yet `settled` is taken again.
   */
  next(sender: EnvelopeHeader['sender'], to: readonly string[], id?: string): number {
    const again =
      id === undefined ? undefined : this.pending.get(`${counterStream({ sender, to })} ${id}`);
    if (again !== undefined) return again;
    const stream = counterStream({ sender, to });
    const counter = (this.sent.get(stream) ?? 0) + 1;
    this.sent.set(stream, counter);
    if (id !== undefined) {
      this.pending.set(`${stream} ${id}`, counter);
      while (this.pending.size > PENDING_IDS) {
        this.pending.delete(this.pending.keys().next().value as string);
      }
    }
    return counter;
  }

  /** Counts on from what other processes with this key used last (never back). */
  adopt(sent: SequenceState['sent']): this {
    for (const [stream, last] of Object.entries(sent))
      if (last > (this.sent.get(stream) ?? 0)) this.sent.set(stream, last);
    return this;
  }

  /** The envelope `id` was accepted (or refused for good): its counter is no longer held for it. */
  settled(sender: EnvelopeHeader['sender'], to: readonly string[], id: string): void {
    this.pending.delete(`${counterStream({ sender, to })} ${id}`);
  }

  /**
   * Checks the counter of an envelope whose signature was verified, and records it. Throws
   * ENVELOPE_REPLAYED for a counter accepted before (or forgotten as missing), unless it is one
   * of the last envelopes accepted fetched again from where it was delivered (`duplicate`).
   * `at` is where this copy was delivered (its inbox offset).
   */
  observe(
    header: Pick<EnvelopeHeader, 'sender' | 'to' | 'counter' | 'id' | 'createdAt'>,
    at: number,
  ): Observation {
    const before = this.recent.get(header.id);
    if (before === at) return { kind: 'duplicate' };
    if (before !== undefined) {
      throw new LiaisonError('ENVELOPE_REPLAYED', 'delivered again at another offset', {
        id: header.id,
        counter: header.counter,
      });
    }
    const seen = this.judge(header);
    this.recent.set(header.id, at);
    if (this.recent.size > RECENT_IDS)
      this.recent.delete(this.recent.keys().next().value as string);
    return seen;
  }

  private judge(
    header: Pick<EnvelopeHeader, 'sender' | 'to' | 'counter' | 'id' | 'createdAt'>,
  ): Observation {
    const stream = counterStream(header);
    const { counter, createdAt } = header;
    const state = this.received.get(stream);
    if (state === undefined) {
      // The first envelope of a stream this reader sees. What came before it was never seen
      // here, so it may still come (a backlog this reader could not open yet): it counts as
      // missing, without a report, since a reader new to a stream expects to have missed it.
      const before: MissingRange[] = counter > 1 ? [[1, counter - 1]] : [];
      this.received.set(stream, { high: counter, newest: createdAt, since: 0, missing: before });
      return { kind: 'next' };
    }
    const newest = Math.max(state.newest, createdAt);
    // Above the count, but made before the sender started counting again: from the earlier run.
    if (counter > state.high && createdAt < state.since) {
      throw new LiaisonError('ENVELOPE_REPLAYED', 'made before its sender counted again', {
        id: header.id,
        counter,
      });
    }
    if (counter > state.high) {
      const skipped: MissingRange | undefined =
        counter > state.high + 1 ? [state.high + 1, counter - 1] : undefined;
      const missing = skipped ? [...state.missing, skipped] : [...state.missing];
      this.received.set(stream, {
        high: counter,
        newest,
        since: state.since,
        missing: missing.slice(-MAX_MISSING_RANGES),
      });
      return skipped ? { kind: 'next', missing: skipped } : { kind: 'next' };
    }
    const gap = state.missing.findIndex(([from, to]) => from <= counter && counter <= to);
    if (gap < 0) {
      // Every envelope already accepted is at most as new as the newest: this one is not a replay
      // but a sender counting from the start again (its state was lost).
      if (createdAt > state.newest) {
        this.received.set(stream, {
          high: counter,
          newest: createdAt,
          since: createdAt,
          missing: state.missing,
        });
        return { kind: 'restarted' };
      }
      throw new LiaisonError('ENVELOPE_REPLAYED', undefined, { id: header.id, counter });
    }
    const missing = [...state.missing];
    missing.splice(gap, 1, ...withoutCounter(state.missing[gap] as MissingRange, counter));
    this.received.set(stream, {
      high: state.high,
      newest,
      since: state.since,
      missing: missing.slice(-MAX_MISSING_RANGES),
    });
    return { kind: 'late' };
  }

  snapshot(): SequenceState {
    return {
      sent: Object.fromEntries(this.sent),
      received: Object.fromEntries(this.received),
      recent: [...this.recent],
      pending: [...this.pending],
    };
  }
}

/**
 * What two records of one device's counters know together: two processes with its key (the
 * CLI's commands) each saved what they saw. An envelope either accepted counts as seen, so the
 * result refuses a replay of it after a restart. Sent counters: the higher, never back. Pending
 * counters: both (the higher where both hold one id). Recent ids: both, by where they were
 * delivered (offsets of the device's one inbox), the newest kept.
 *
 * @example
 * const saved = mergeSequenceStates(onDisk.sequences, client.sequenceState);
 */
export function mergeSequenceStates(a: SequenceState, b: SequenceState): SequenceState {
  const sent = { ...a.sent };
  for (const [stream, last] of Object.entries(b.sent))
    sent[stream] = Math.max(last, sent[stream] ?? 0);
  const received = { ...a.received };
  for (const [stream, theirs] of Object.entries(b.received)) {
    const ours = received[stream];
    received[stream] = ours ? mergeStreams(ours, theirs) : theirs;
  }
  const recent = new Map(a.recent ?? []);
  for (const [id, at] of b.recent ?? []) recent.set(id, Math.min(at, recent.get(id) ?? at));
  const pending = new Map(a.pending ?? []);
  for (const [key, counter] of b.pending ?? [])
    pending.set(key, Math.max(counter, pending.get(key) ?? counter));
  return {
    sent,
    received,
    recent: [...recent].sort(([, x], [, y]) => x - y).slice(-RECENT_IDS),
    pending: [...pending].slice(-PENDING_IDS),
  };
}

/**
 * One stream as two readers saw it: a counter is missing only if neither saw it. When one saw
 * the sender count again (a later `since`) and the other did not, the other's counters from the
 * earlier run still count as seen: a late envelope of the new run with such a counter and an
 * older time than the newest is then refused, and a newer one is taken as the sender counting
 * again; an envelope either accepted is never taken twice.
 */
function mergeStreams(a: StreamState, b: StreamState): StreamState {
  const high = Math.max(a.high, b.high);
  const missing = intersect(unseen(a, high), unseen(b, high));
  return {
    high,
    newest: Math.max(a.newest, b.newest),
    since: Math.max(a.since, b.since),
    missing: missing.slice(-MAX_MISSING_RANGES),
  };
}

/** The counters up to `high` a reader did not see, as sorted ranges that neither touch nor overlap. */
function unseen(state: StreamState, high: number): MissingRange[] {
  // Ranges above the reader's own high (kept from before a sender counted again) are never
  // consulted by `observe`: above the high is judged as new.
  const ranges = state.missing
    .filter(([from]) => from <= state.high)
    .map(([from, to]): MissingRange => [from, Math.min(to, state.high)]);
  if (state.high < high) ranges.push([state.high + 1, high]);
  ranges.sort(([x], [y]) => x - y);
  const joined: [number, number][] = [];
  for (const [from, to] of ranges) {
    const last = joined.at(-1);
    if (last && from <= last[1] + 1) last[1] = Math.max(last[1], to);
    else joined.push([from, to]);
  }
  return joined;
}

function intersect(a: readonly MissingRange[], b: readonly MissingRange[]): MissingRange[] {
  const both: MissingRange[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const [fromA, toA] = a[i] as MissingRange;
    const [fromB, toB] = b[j] as MissingRange;
    const from = Math.max(fromA, fromB);
    const to = Math.min(toA, toB);
    if (from <= to) both.push([from, to]);
    if (toA < toB) i++;
    else j++;
  }
  return both;
}
