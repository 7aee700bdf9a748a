import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_MISSING_RANGES,
  mergeSequenceStates,
  RECENT_IDS,
  type SequenceState,
  Sequences,
} from '../../src/envelope/sequence.js';
import { rejectionCode } from '../fixtures/forge.js';

// Two processes with one device key (the CLI's commands) each saw part of its inbox and saved
// what they saw; the merge is what the next command starts from. Headers alone: the signature
// that makes counter and time the sender's is checked before this runs.

const senders = [
  { deviceId: 'KZ-KORDAI/desk-1', keyId: 'A'.repeat(22) },
  { deviceId: 'KZ-KORDAI/duty-1', keyId: 'B'.repeat(22) },
];
const to = ['KG-AKZHOL'];
const header = (sender: number, counter: number, createdAt = 1_000 + counter) => ({
  id: `00000000-0000-4000-8${sender}00-${String(counter).padStart(12, '0')}`,
  sender: senders[sender] as (typeof senders)[number],
  to,
  counter,
  createdAt,
});
type Header = ReturnType<typeof header>;
const refusal = (run: () => unknown) => rejectionCode(Promise.resolve().then(run));
const withoutRecent = ({ recent: _, ...rest }: SequenceState): SequenceState => rest;
// Far past every offset of the inbox below: delivered anew, as a replay is.
const ANEW = 1_000_000;

/**
 * Envelopes of two senders, each counting from 1 with its clock, delivered in any order to one
 * inbox; each one seen by the first process, the second, both, or neither (not delivered yet).
 */
const inbox = fc
  .tuple(fc.integer({ min: 1, max: 30 }), fc.integer({ min: 0, max: 30 }))
  .chain(([first, second]) => {
    const all = [
      ...Array.from({ length: first }, (_, i) => header(0, i + 1)),
      ...Array.from({ length: second }, (_, i) => header(1, i + 1)),
    ];
    return fc.tuple(
      fc.shuffledSubarray(all, { minLength: all.length }),
      fc.array(fc.constantFrom('a', 'b', 'both', 'neither'), {
        minLength: all.length,
        maxLength: all.length,
      }),
    );
  })
  .map(([order, seenBy]) => {
    const a = new Sequences();
    const b = new Sequences();
    const seen: Header[] = [];
    const unseen: Header[] = [];
    order.forEach((h, i) => {
      const who = seenBy[i];
      if (who === 'a' || who === 'both') a.observe(h, i + 1);
      if (who === 'b' || who === 'both') b.observe(h, i + 1);
      (who === 'neither' ? unseen : seen).push(h);
    });
    return { a: a.snapshot(), b: b.snapshot(), seen, unseen };
  });

describe('merging what two processes with one key saw', () => {
  it('an envelope either accepted is refused as a replay, even once its id is forgotten', async () => {
    await fc.assert(
      fc.asyncProperty(inbox, async ({ a, b, seen }) => {
        const merged = mergeSequenceStates(a, b);
        for (const h of seen) {
          expect(await refusal(() => new Sequences(merged).observe(h, ANEW))).toBe(
            'ENVELOPE_REPLAYED',
          );
          expect(await refusal(() => new Sequences(withoutRecent(merged)).observe(h, ANEW))).toBe(
            'ENVELOPE_REPLAYED',
          );
        }
      }),
    );
  });

  it('an envelope neither saw is still taken, late or next', () => {
    fc.assert(
      fc.property(inbox, ({ a, b, unseen }) => {
        const merged = mergeSequenceStates(a, b);
        for (const h of unseen)
          expect(['late', 'next']).toContain(new Sequences(merged).observe(h, ANEW).kind);
      }),
    );
  });

  it('the same either way round, and a record merged with itself is unchanged', () => {
    fc.assert(
      fc.property(inbox, ({ a, b }) => {
        const ab = mergeSequenceStates(a, b);
        const ba = mergeSequenceStates(b, a);
        expect(ab.received).toEqual(ba.received);
        expect(ab.sent).toEqual(ba.sent);
        expect(ab.recent).toEqual(ba.recent);
        expect(mergeSequenceStates(a, a)).toEqual({ ...a, recent: a.recent });
      }),
    );
  });

  it('one saw 1, the other saw 2 and reported 1 missing: together nothing is missing', async () => {
    const first = new Sequences();
    const second = new Sequences();
    const [one, two] = [header(0, 1), header(0, 2)];
    first.observe(one, 1);
    expect(second.observe(two, 2)).toEqual({ kind: 'next' });
    expect(second.observe(header(0, 3), 3)).toEqual({ kind: 'next' });
    const merged = mergeSequenceStates(first.snapshot(), second.snapshot());
    expect(Object.values(merged.received)).toEqual([
      { high: 3, newest: 1_003, since: 0, missing: [] },
    ]);
    // The second alone would take `one` as late; the last to save no longer decides.
    const alone = new Sequences(withoutRecent(second.snapshot()));
    expect(alone.observe(one, ANEW)).toEqual({ kind: 'late' });
    expect(await refusal(() => new Sequences(withoutRecent(merged)).observe(one, ANEW))).toBe(
      'ENVELOPE_REPLAYED',
    );
  });

  it('a sender that counted again, seen by one process only: its earlier run stays refused', async () => {
    const before = new Sequences();
    const after = new Sequences();
    for (const counter of [1, 2, 3]) {
      before.observe(header(0, counter), counter);
      after.observe(header(0, counter), counter);
    }
    before.observe(header(0, 4), 4);
    // The sender lost its count: counter 1 again, made later.
    const again = { ...header(0, 1, 5_000), id: '00000000-0000-4000-8000-100000000001' };
    expect(after.observe(again, 5)).toEqual({ kind: 'restarted' });
    const merged = new Sequences(
      withoutRecent(mergeSequenceStates(before.snapshot(), after.snapshot())),
    );
    for (const counter of [1, 4])
      expect(await refusal(() => merged.observe(header(0, counter), ANEW))).toBe(
        'ENVELOPE_REPLAYED',
      );
    expect(await refusal(() => merged.observe(again, ANEW))).toBe('ENVELOPE_REPLAYED');
    // The sender's next envelope is newer than any seen: taken, as counting again.
    const next = { ...header(0, 2, 5_001), id: '00000000-0000-4000-8000-100000000002' };
    expect(merged.observe(next, 6).kind).toBe('restarted');
  });

  it('gaps stay bounded, the newest kept', () => {
    // Gaps that overlap by one counter each: together nearly twice as many, each one counter.
    const gaps = (start: number) =>
      Array.from({ length: MAX_MISSING_RANGES }, (_, i): [number, number] => [
        start + 4 * i,
        start + 4 * i + 2,
      ]);
    const stream = (missing: [number, number][]) => ({
      sent: {},
      received: { s: { high: 2_000, newest: 3_000, since: 0, missing } },
    });
    const merged = mergeSequenceStates(stream(gaps(1)), stream(gaps(3)));
    const missing = merged.received.s?.missing ?? [];
    expect(missing).toHaveLength(MAX_MISSING_RANGES);
    // The last counter both missed: where the last gaps of each overlap.
    const last = 3 + 4 * (MAX_MISSING_RANGES - 1);
    expect(missing.at(-1)).toEqual([last, last]);
  });

  it('sent counters: the higher; pending ones: both; recent ids: both, the newest kept', () => {
    const one = new Sequences();
    const other = new Sequences();
    for (let i = 0; i < 3; i++) one.next(senders[0] as Header['sender'], to);
    other.next(senders[0] as Header['sender'], to, 'line-1');
    other.next(senders[1] as Header['sender'], to, 'line-2');
    for (let offset = 1; offset <= RECENT_IDS; offset++) one.observe(header(0, offset), offset);
    other.observe(header(1, 1), RECENT_IDS + 1);
    const merged = mergeSequenceStates(one.snapshot(), other.snapshot());
    expect(Object.values(merged.sent)).toEqual([3, 1]);
    expect(merged.pending?.map(([key]) => key.split(' ')[1])).toEqual(['line-1', 'line-2']);
    expect(merged.recent).toHaveLength(RECENT_IDS);
    expect(merged.recent?.[0]).toEqual([header(0, 2).id, 2]);
    expect(merged.recent?.at(-1)).toEqual([header(1, 1).id, RECENT_IDS + 1]);
  });
});
