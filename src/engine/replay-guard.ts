/** Remembers what was used once (token ids), shared by every instance. */
export interface ReplayGuard {
  /** True the first time a key is claimed; remembered until `expiresAt` (ms). */
  claimOnce(key: string, expiresAt: number): Promise<boolean>;
}

/** The replay guard of one process. */
export class MemoryReplayGuard implements ReplayGuard {
  private readonly claims = new Map<string, number>();

  constructor(private readonly clock: () => number = Date.now) {}

  async claimOnce(key: string, expiresAt: number): Promise<boolean> {
    const now = this.clock();
    const until = this.claims.get(key);
    if (until !== undefined && until > now) return false;
    this.claims.set(key, expiresAt);
    if (this.claims.size > 100_000) {
      for (const [k, v] of this.claims) if (v <= now) this.claims.delete(k);
    }
    return true;
  }
}
