/** Receives one published message. */
export type Handler = (message: string) => void;

/** Told of a handler that threw (a bug: handlers check what they read and do not throw). */
export type HandlerErrorListener = (error: unknown, channel: string) => void;

/**
 * Gives a message to each handler of its channel. Anyone who can write to Redis can publish on
 * a channel, so a handler may meet anything; one that throws must neither keep the message from
 * the others nor throw into the Redis client, where it would end the process. Handlers check
 * and count what they drop themselves (gateway/channel-messages.ts); this is the backstop, and
 * what it catches goes to `onError`.
 */
export function deliver(
  handlers: Iterable<Handler>,
  message: string,
  channel: string,
  onError: HandlerErrorListener | undefined,
): void {
  for (const handler of handlers) {
    try {
      handler(message);
    } catch (error) {
      onError?.(error, channel);
    }
  }
}

/** Messages between server instances, by channel (see `channels` in keyspace.ts). */
export interface PubSub {
  /** Where a handler's throw is reported (the process's logger and metrics). */
  onHandlerError?: HandlerErrorListener;
  publish(channel: string, message: string): Promise<void>;
  subscribe(channel: string, handler: Handler): Promise<void>;
  unsubscribe(channel: string, handler: Handler): Promise<void>;
}

/** Pub/sub inside one process. */
export class MemoryPubSub implements PubSub {
  private readonly handlers = new Map<string, Set<Handler>>();
  onHandlerError?: HandlerErrorListener;

  async publish(channel: string, message: string): Promise<void> {
    // Asynchronous like Redis pub/sub, so callers never depend on same-tick delivery.
    const handlers = [...(this.handlers.get(channel) ?? [])];
    queueMicrotask(() => {
      deliver(handlers, message, channel, this.onHandlerError);
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
