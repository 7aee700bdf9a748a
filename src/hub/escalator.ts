import type { FeedEscalation } from '../../protocol/v1/analyst.js';
import type { AlertBook } from './alert-book.js';

/**
 * Escalates FLASH and IMMEDIATE alerts whose acknowledgement is overdue. The due times live in
 * Redis, derived from the record, so escalation survives restarts; each due alert is claimed by
 * exactly one replica. The escalation goes to the analysts' feed and to the sending office.
 */
export class Escalator {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly alerts: AlertBook,
    private readonly notify: (escalation: FeedEscalation) => Promise<void>,
    private readonly onError: (error: unknown) => void,
    /** Acceptance time of the oldest envelope not yet recorded, if any (StreamConsumer.frontier). */
    private readonly frontier: () => Promise<number | undefined> = async () => undefined,
  ) {}

  /** Escalates everything due at `now`; returns what it escalated. */
  async tick(now: number = Date.now()): Promise<FeedEscalation[]> {
    const escalated: FeedEscalation[] = [];
    // Deadlines are judged against what has been recorded: an acknowledgement still in the
    // backlog may have been sent in time.
    const frontier = await this.frontier();
    const judgedAt = frontier === undefined ? now : Math.min(now, frontier);
    for (const id of await this.alerts.claimDue(judgedAt)) {
      const alert = await this.alerts.alert(id);
      if (!alert || alert.ackedAt !== undefined || alert.escalatedAt !== undefined) {
        await this.alerts.escalated(id, alert?.escalatedAt ?? now);
        continue;
      }
      const escalation: FeedEscalation = {
        type: 'escalation',
        alertId: id,
        // Only FLASH and IMMEDIATE alerts go on the clock (recorder.ts).
        precedence: alert.precedence as FeedEscalation['precedence'],
        from: alert.from,
        to: alert.to.split(','),
        acceptedAt: alert.acceptedAt,
        escalatedAt: now,
      };
      // Logged first: an analyst who reconnects after a gap replays it from the log.
      await this.alerts.logEscalation(escalation);
      await this.notify(escalation);
      await this.alerts.escalated(id, now);
      escalated.push(escalation);
    }
    return escalated;
  }

  start(everyMs = 1000): void {
    this.timer = setInterval(() => {
      this.tick().catch(this.onError);
    }, everyMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
