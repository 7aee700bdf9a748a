/** Receives one published message. */
export type Handler = (message: string) => void;

/** Messages between server instances, by channel (see `channels` in keyspace.ts). */
export interface PubSub {
  publish(channel: string, message: string): Promise<void>;
  subscribe(channel: string, handler: Handler): Promise<void>;
  unsubscribe(channel: string, handler: Handler): Promise<void>;
}

/** Pub/sub inside one process. */
export class MemoryPubSub implements PubSub {
  private readonly handlers = new Map<string, Set<Handler>>();

  async publish(channel: string, message: string): Promise<void> {
    // Asynchronous like Redis pub/sub, so callers never depend on same-tick delivery.
    const handlers = [...(this.handlers.get(channel) ?? [])];
    queueMicrotask(() => {
      for (const handler of handlers) handler(message);
    });
  }

  async subscribe(channel: string, handler: Handler): Promise<void> {
    const set = this.handlers.get(channel) ?? new Set();
    set.add(handler);
    this.handlers.set(channel, set);
  }

  async unsubscribe(channel: string, handler: Handler): Promise<void> {
    const set = this.handlers.get(channel);
    set?.delete(handler);
    if (set?.size === 0) this.handlers.delete(channel);
  }

  /** Forgets every subscriber. */
  clear(): void {
    this.handlers.clear();
  }
}
