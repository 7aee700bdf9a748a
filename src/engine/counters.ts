/** Fixed-window counters (rates), shared by every instance. */
export interface Counters {
  /** Counts a hit in a fixed window that starts with its first hit; returns the count so far. */
  hit(key: string, windowMs: number): Promise<number>;
}

/** The counters of one process. */
export class MemoryCounters implements Counters {
  private readonly windows = new Map<string, { count: number; until: number }>();

  constructor(private readonly clock: () => number = Date.now) {}

  async hit(key: string, windowMs: number): Promise<number> {
    return this.count(key, windowMs);
  }

  /** Synchronous, so the in-memory accept checks and stores without yielding in between. */
  count(key: string, windowMs: number): number {
    const now = this.clock();
    const window = this.windows.get(key);
    if (!window || window.until <= now) {
      this.windows.set(key, { count: 1, until: now + windowMs });
      return 1;
    }
    window.count += 1;
    return window.count;
  }
}
