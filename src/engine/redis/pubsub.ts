import { deliver, type Handler, type HandlerErrorListener, type PubSub } from '../pubsub.js';
import type { RedisConnection } from './connection.js';

/** Pub/sub through Redis: publishes on the command connection, listens on the subscriber. */
export class RedisPubSub implements PubSub {
  private readonly handlers = new Map<string, Set<Handler>>();
  onHandlerError?: HandlerErrorListener;

  constructor(private readonly connection: RedisConnection) {
    const { prefix } = connection.keys;
    connection.subscriber.on('message', (channel: string, message: string) => {
      const name = channel.slice(prefix.length);
      deliver(this.handlers.get(name) ?? [], message, name, this.onHandlerError);
    });
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.connection.redis.publish(this.connection.keys.channel(channel), message);
  }

  async subscribe(channel: string, handler: Handler): Promise<void> {
    const set = this.handlers.get(channel) ?? new Set();
    set.add(handler);
    this.handlers.set(channel, set);
    if (set.size === 1)
      await this.connection.subscriber.subscribe(this.connection.keys.channel(channel));
  }

  async unsubscribe(channel: string, handler: Handler): Promise<void> {
    const set = this.handlers.get(channel);
    if (!set?.delete(handler) || set.size > 0) return;
    this.handlers.delete(channel);
    await this.connection.subscriber.unsubscribe(this.connection.keys.channel(channel));
  }

  /** Forgets every handler (before the connection closes). */
  clear(): void {
    this.handlers.clear();
  }
}
