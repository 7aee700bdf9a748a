/** Which connections of an office are alive, shared by every instance. */
export interface Presence {
  /** Marks a connection of an office alive until `expiresAt`; returns live connections. */
  touchPresence(office: string, connection: string, expiresAt: number): Promise<number>;
  /** Forgets a connection; returns live connections (dropping `''` only counts them). */
  dropPresence(office: string, connection: string): Promise<number>;
}

/** Presence in one process. */
export class MemoryPresence implements Presence {
  private readonly presence = new Map<string, Map<string, number>>();

  constructor(private readonly clock: () => number = Date.now) {}

  async touchPresence(office: string, connection: string, expiresAt: number) {
    const live = this.presence.get(office) ?? new Map<string, number>();
    live.set(connection, expiresAt);
    this.presence.set(office, live);
    return this.liveCount(live);
  }

  async dropPresence(office: string, connection: string) {
    const live = this.presence.get(office);
    if (!live) return 0;
    live.delete(connection);
    return this.liveCount(live);
  }

  private liveCount(live: Map<string, number>): number {
    const now = this.clock();
    for (const [connection, until] of live) if (until <= now) live.delete(connection);
    return live.size;
  }
}
