import type { HubStore } from './store.js';

export interface Escalation {
  readonly type: 'escalation';
  readonly alertId: string;
  readonly precedence: string;
  /** The office that raised the alert and the offices that have not acknowledged it. */
  readonly from: string;
  readonly to: string[];
  readonly acceptedAt: number;
  readonly escalatedAt: number;
}

/**
 * Escalates FLASH and IMMEDIATE alerts whose acknowledgement is overdue. The due times live in
 * Redis, derived from the record, so escalation survives restarts; each due alert is claimed by
 * exactly one replica. The escalation goes to the analysts' feed and to the sending office.
 */
export class Escalator {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: HubStore,
    private readonly notify: (escalation: Escalation) => Promise<void>,
    private readonly onError: (error: unknown) => void,
    /** Acceptance time of the oldest envelope not yet recorded, if any (see HubStore.frontier). */
    private readonly frontier: () => Promise<number | undefined> = async () => undefined,
  ) {}

  /** Escalates everything due at `now`; returns what it escalated. */
  async tick(now: number = Date.now()): Promise<Escalation[]> {
    const escalated: Escalation[] = [];
    // Deadlines are judged against what has been recorded: an acknowledgement still in the
    // backlog may have been sent in time.
    const frontier = await this.frontier();
    const judgedAt = frontier === undefined ? now : Math.min(now, frontier);
    for (const id of await this.store.claimDue(judgedAt)) {
      const alert = await this.store.alert(id);
      if (!alert || alert.ackedAt !== undefined || alert.escalatedAt !== undefined) {
        await this.store.escalated(id, alert?.escalatedAt ?? now);
        continue;
      }
      const escalation: Escalation = {
        type: 'escalation',
        alertId: id,
        precedence: alert.precedence,
        from: alert.from,
        to: alert.to.split(','),
        acceptedAt: alert.acceptedAt,
        escalatedAt: now,
      };
      await this.notify(escalation);
      await this.store.escalated(id, now);
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
