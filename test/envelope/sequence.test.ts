import { describe, expect, it } from 'vitest';
import { MAX_MISSING_RANGES, RECENT_IDS, Sequences } from '../../src/envelope/sequence.js';
import { rejectionCode } from '../fixtures/forge.js';

// The reader's side of envelope counters (PROTOCOL.md §7.6), on headers alone: the signature that
// makes counter and time the sender's is checked before this runs (test/client/replay.test.ts).

const sender = { deviceId: 'KZ-KORDAI/desk-1', keyId: 'A'.repeat(22) };
let n = 0;
const header = (counter: number, createdAt = 1_000 + counter, to = ['KG-AKZHOL']) => ({
  id: `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
  sender,
  to,
  counter,
  createdAt,
});
const refusal = (run: () => unknown) => rejectionCode(Promise.resolve().then(run));

describe('envelope counters, as a reader keeps them', () => {
  it('counts per sender key and set of offices, from 1, in any order of `to`', () => {
    const counters = new Sequences();
    expect(counters.next(sender, ['KG-AKZHOL'])).toBe(1);
    expect(counters.next(sender, ['KG-AKZHOL'])).toBe(2);
    expect(counters.next(sender, ['UZ-OYBEK', 'KG-AKZHOL'])).toBe(1);
    expect(counters.next(sender, ['KG-AKZHOL', 'UZ-OYBEK'])).toBe(2);
    expect(counters.next({ ...sender, keyId: 'B'.repeat(22) }, ['KG-AKZHOL'])).toBe(1);
    // Kept across a restart.
    expect(new Sequences(counters.snapshot()).next(sender, ['KG-AKZHOL'])).toBe(3);
  });

  it('a resend of an unanswered id seals the same counter, across a restart; an answered one moves on', () => {
    const sequences = new Sequences();
    expect(sequences.next(sender, ['KG-AKZHOL'], 'line-1')).toBe(1);
    // The answer was lost, and the app restarted with its saved state: the same counter again.
    const restarted = new Sequences(sequences.snapshot());
    expect(restarted.next(sender, ['KG-AKZHOL'], 'line-1')).toBe(1);
    expect(restarted.next(sender, ['KG-AKZHOL'], 'line-2')).toBe(2);
    restarted.settled(sender, ['KG-AKZHOL'], 'line-1');
    expect(restarted.next(sender, ['KG-AKZHOL'])).toBe(3);
    // The same id to another set of offices is another envelope.
    expect(restarted.next(sender, ['UZ-OYBEK'], 'line-2')).toBe(1);
    expect(restarted.snapshot().pending).toHaveLength(2);
  });

  it('reports a gap once, takes the late one, and refuses everything seen again', async () => {
    const reader = new Sequences();
    const [one, two, three, four] = [header(1), header(2), header(3), header(4)];
    expect(reader.observe(one, 1)).toEqual({ kind: 'next' });
    expect(reader.observe(four, 2)).toEqual({ kind: 'next', missing: [2, 3] });
    expect(reader.observe(three, 3)).toEqual({ kind: 'late' });
    expect(reader.snapshot().received).toMatchObject({
      [Object.keys(reader.snapshot().received)[0] as string]: { high: 4, missing: [[2, 2]] },
    });
    expect(reader.observe(two, 4)).toEqual({ kind: 'late' });
    // The same copy fetched again from where it was delivered is no news; elsewhere, a replay.
    expect(reader.observe(four, 2)).toEqual({ kind: 'duplicate' });
    expect(await refusal(() => reader.observe(four, 9))).toBe('ENVELOPE_REPLAYED');
    // Forgotten ids change nothing: the counter and time still give the replay away.
    const forgetful = new Sequences({ ...reader.snapshot(), recent: [] });
    for (const [i, seen] of [one, two, three, four].entries())
      expect(await refusal(() => forgetful.observe(seen, 100 + i))).toBe('ENVELOPE_REPLAYED');
  });

  it('a reader new to a stream takes what came before its first envelope, without a report', () => {
    const reader = new Sequences();
    expect(reader.observe(header(40), 1)).toEqual({ kind: 'next' });
    expect(reader.observe(header(12), 2)).toEqual({ kind: 'late' });
  });

  it('a sender that lost its count starts again on newer envelopes; an old one is still a replay', async () => {
    const reader = new Sequences();
    reader.observe(header(1, 5_000), 1);
    reader.observe(header(2, 5_001), 2);
    expect(reader.observe(header(1, 6_000), 3)).toEqual({ kind: 'restarted' });
    expect(reader.observe(header(2, 6_001), 4)).toEqual({ kind: 'next' });
    expect(await refusal(() => reader.observe(header(1, 4_000), 5))).toBe('ENVELOPE_REPLAYED');
    // Nor does an envelope of the earlier run pass for news by its higher counter.
    expect(await refusal(() => reader.observe(header(9, 5_002), 6))).toBe('ENVELOPE_REPLAYED');
  });

  it('memory stays bounded whatever a gateway does', () => {
    const reader = new Sequences();
    let counter = 1;
    reader.observe(header(counter), 0);
    for (let i = 1; i <= MAX_MISSING_RANGES + 50; i++) {
      counter += 2;
      reader.observe(header(counter), i);
    }
    const [stream] = Object.values(reader.snapshot().received);
    expect(stream?.missing).toHaveLength(MAX_MISSING_RANGES);
    expect(reader.snapshot().recent?.length).toBeLessThanOrEqual(RECENT_IDS);
    // A counter near the largest allowed does not make memory grow either.
    expect(reader.observe(header(Number.MAX_SAFE_INTEGER), 999)).toMatchObject({ kind: 'next' });
  });
});
