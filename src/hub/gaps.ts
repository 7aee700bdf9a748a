import type { EnvelopeHeader } from '../../protocol/v1/envelope.js';
import type { RecordBody } from '../../protocol/v1/record.js';
import {
  counterStream,
  type MissingRange,
  Sequences,
  withoutCounter,
} from '../envelope/sequence.js';
import { isLiaisonError } from '../errors.js';

/** Envelopes of one sender stream that the record does not hold (PROTOCOL.md §7.6). */
export interface PossiblyMissing {
  readonly sender: string;
  readonly to: readonly string[];
  readonly counters: MissingRange;
}

/** An envelope the record holds twice or more: accepted again by a gateway. */
export interface Replayed {
  readonly id: string;
  readonly sender: string;
  readonly counter: number;
  readonly seq: number;
}

export interface SequenceReport {
  readonly possiblyMissing: PossiblyMissing[];
  readonly replayed: Replayed[];
}

/**
 * Runs the readers' counter rules over the record's entries in record order, as a device would
 * over its inbox, but on everything every office sent: the gaps still open at the end are the
 * envelopes no one recorded (dropped before the hub, or still to come), and what the rules refuse
 * was accepted again. Only authenticated entries count: an unsigned header proves nothing.
 */
export class SequenceAudit {
  private readonly counters = new Sequences();
  private readonly gaps = new Map<
    string,
    { sender: string; to: readonly string[]; ranges: MissingRange[] }
  >();
  private readonly replayed: Replayed[] = [];

  add(entry: RecordBody): void {
    if (!entry.authenticated) return;
    const header = headerOf(entry.envelope);
    if (!header) return;
    const stream = counterStream(header);
    try {
      const seen = this.counters.observe(header, entry.seq);
      const open = this.gaps.get(stream);
      if (seen.kind === 'next' && seen.missing) {
        const gap = open ?? { sender: entry.sender, to: header.to, ranges: [] };
        gap.ranges.push(seen.missing);
        this.gaps.set(stream, gap);
      } else if (seen.kind === 'late' && open) {
        open.ranges = open.ranges.flatMap((range) => withoutCounter(range, header.counter));
      }
    } catch (error) {
      if (!isLiaisonError(error, 'ENVELOPE_REPLAYED')) throw error;
      const { id, counter } = header;
      this.replayed.push({ id, sender: entry.sender, counter, seq: entry.seq });
    }
  }

  report(): SequenceReport {
    return {
      possiblyMissing: [...this.gaps.values()].flatMap(({ sender, to, ranges }) =>
        ranges.map((counters) => ({ sender, to, counters })),
      ),
      replayed: [...this.replayed],
    };
  }
}

function headerOf(envelopeText: string): EnvelopeHeader | undefined {
  try {
    const header = (JSON.parse(envelopeText) as { header?: EnvelopeHeader }).header;
    return typeof header?.counter === 'number' ? header : undefined;
  } catch {
    return undefined;
  }
}
