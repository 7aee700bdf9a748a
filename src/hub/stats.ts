import type { Directory } from '../directory/directory.js';
import type { AlertBook } from './alert-book.js';
import { type PossiblyMissing, type Replayed, SequenceAudit } from './gaps.js';
import type { RecordReader } from './reader.js';

export interface Statistics {
  /** Per link (offices in ascending order) and UTC day: envelopes and alerts. */
  readonly perLinkPerDay: { link: string; day: string; messages: number; alerts: number }[];
  readonly alertsByCategory: Record<string, number>;
  /** Per acknowledging office: median ms from an alert's acceptance to its acknowledgement. */
  readonly medianAckMsByOffice: Record<string, number>;
  /** Border offices that sent nothing for longer than the threshold, with when they last did. */
  readonly silentOffices: { officeId: string; lastSentAt: number | null }[];
  /** Envelopes a sender's counter says were sent but the record does not hold (§7.6). */
  readonly possiblyMissing: PossiblyMissing[];
  /** Envelopes the record holds more than once: accepted again. */
  readonly replayed: Replayed[];
  /**
   * Per case (§8.1, read from the opened content): its latest title and status, how many items
   * and alerts, the offices involved, and when the last item was accepted.
   */
  readonly perCase: {
    caseId: string;
    title: string;
    status: 'open' | 'closed';
    items: number;
    alerts: number;
    offices: string[];
    lastAt: number;
  }[];
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

/** The figures analysts ask for, computed from the record over [since, until). */
export async function computeStatistics(
  reader: RecordReader,
  alerts: AlertBook,
  directory: Directory,
  range: { since: number; until: number; silentMs: number },
): Promise<Statistics> {
  const perLink = new Map<string, { messages: number; alerts: number }>();
  const categories: Record<string, number> = {};
  const ackTimes = new Map<string, number[]>();
  const lastSent = new Map<string, number>();
  const audit = new SequenceAudit();
  const cases = new Map<string, Statistics['perCase'][number]>();
  for await (const { stored, entry } of reader.range(range.since, range.until)) {
    audit.add(entry);
    const day = new Date(entry.acceptedAt).toISOString().slice(0, 10);
    lastSent.set(entry.from, Math.max(lastSent.get(entry.from) ?? 0, entry.acceptedAt));
    for (const to of entry.to) {
      const link = [entry.from, to].sort().join(',');
      const key = `${link} ${day}`;
      const counts = perLink.get(key) ?? { messages: 0, alerts: 0 };
      counts.messages++;
      if (entry.kind === 'alert') counts.alerts++;
      perLink.set(key, counts);
    }
    const readable = entry.status === 'compliant' && entry.kind !== 'receipt';
    const view = readable ? await reader.view(stored) : undefined;
    const ref = (view?.body as { case?: { id: string; title: string; status: 'open' | 'closed' } })
      ?.case;
    if (ref) {
      const kept = cases.get(ref.id);
      const offices = new Set([...(kept?.offices ?? []), entry.from, ...entry.to]);
      cases.set(ref.id, {
        caseId: ref.id,
        // The newest item says what the case is called now and whether it is still open.
        title: ref.title,
        status: ref.status,
        items: (kept?.items ?? 0) + 1,
        alerts: (kept?.alerts ?? 0) + (entry.kind === 'alert' ? 1 : 0),
        offices: [...offices].sort(),
        lastAt: entry.acceptedAt,
      });
    }
    if (entry.kind === 'alert' && view) {
      if (view.body?.type === 'alert')
        categories[view.body.category] = (categories[view.body.category] ?? 0) + 1;
      const alert = await alerts.alert(entry.id);
      if (alert?.ackedAt !== undefined && alert.ackedBy) {
        ackTimes.set(alert.ackedBy, [
          ...(ackTimes.get(alert.ackedBy) ?? []),
          alert.ackedAt - alert.acceptedAt,
        ]);
      }
    }
  }
  const silentOffices = directory
    .allOffices()
    .filter((o) => o.officeId !== 'CARICC')
    .map((o) => ({ officeId: o.officeId, lastSentAt: lastSent.get(o.officeId) ?? null }))
    .filter((o) => o.lastSentAt === null || range.until - o.lastSentAt > range.silentMs);
  return {
    perLinkPerDay: [...perLink.entries()].map(([key, counts]) => {
      const [link, day] = key.split(' ') as [string, string];
      return { link, day, ...counts };
    }),
    alertsByCategory: categories,
    medianAckMsByOffice: Object.fromEntries(
      [...ackTimes].map(([office, times]) => [office, median(times)]),
    ),
    silentOffices,
    ...audit.report(),
    perCase: [...cases.values()],
  };
}
