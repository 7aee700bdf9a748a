import { Redis } from 'ioredis';
import type {
  AcceptRequest,
  AcceptResult,
  Engine,
  FetchResult,
  Handler,
  StoredItem,
} from './engine.js';
import { channels, expiredGap, idTaken } from './engine.js';
import { ACCEPT, ACK, APPEND, FETCH, HIT, PRESENCE } from './redis-scripts.js';

export interface RedisEngineOptions {
  readonly url: string;
  /** Prefix of every key and channel, so deployments (and test files) never collide. */
  readonly prefix: string;
  readonly retentionMs: number;
  /** Connection trouble (ioredis reconnects by itself and queues commands meanwhile). */
  readonly onError?: (error: Error) => void;
}

type Script = 'accept' | 'fetch' | 'ack' | 'hit' | 'append' | 'presence';
type Scripted = Redis & Record<Script, (...args: (string | number)[]) => Promise<unknown>>;

/** Parses an inbox member `offset|id|sender|acceptedAt|envelope`. */
function parseItem(member: string): StoredItem {
  const fields: string[] = [];
  let at = 0;
  for (let i = 0; i < 4; i++) {
    const bar = member.indexOf('|', at);
    fields.push(member.slice(at, bar));
    at = bar + 1;
  }
  const [offset, id, sender, acceptedAt] = fields as [string, string, string, string];
  return {
    offset: Number(offset),
    id,
    sender,
    acceptedAt: Number(acceptedAt),
    envelope: member.slice(at),
  };
}

/**
 * The engine on Redis: the only datastore, shared by every gateway instance. Each step that must
 * be atomic is a Lua script (redis-scripts.ts); pub/sub runs on a second connection.
 */
export class RedisEngine implements Engine {
  readonly kind = 'redis';
  private readonly redis: Scripted;
  private readonly subscriber: Redis;
  private readonly handlers = new Map<string, Set<Handler>>();
  private readonly p: string;
  private readonly retentionMs: number;

  constructor(options: RedisEngineOptions) {
    if (!Number.isSafeInteger(options.retentionMs) || options.retentionMs < 1) {
      throw new TypeError('retentionMs must be a positive whole number of milliseconds');
    }
    this.p = options.prefix;
    this.retentionMs = options.retentionMs;
    const redis = new Redis(options.url, { lazyConnect: false, enableAutoPipelining: true });
    const scripts: Record<Script, [string, number?]> = {
      accept: [ACCEPT],
      fetch: [FETCH, 2],
      ack: [ACK, 2],
      hit: [HIT, 1],
      append: [APPEND, 1],
      presence: [PRESENCE, 1],
    };
    for (const [name, [lua, keys]] of Object.entries(scripts)) {
      redis.defineCommand(name, keys === undefined ? { lua } : { lua, numberOfKeys: keys });
    }
    this.redis = redis as Scripted;
    this.subscriber = new Redis(options.url);
    const onError = options.onError ?? (() => {});
    redis.on('error', onError);
    this.subscriber.on('error', onError);
    this.subscriber.on('message', (channel: string, message: string) => {
      for (const handler of this.handlers.get(channel.slice(this.p.length)) ?? []) handler(message);
    });
  }

  async accept(request: AcceptRequest): Promise<AcceptResult> {
    const { rate } = request;
    const keys = [`${this.p}acc:${request.id}`, `${this.p}seq:${request.sender}`, `${this.p}hub`];
    for (const key of rate.keys) keys.push(`${this.p}hit:${key}`);
    for (const device of request.devices) keys.push(...this.inboxKeys(device));
    const reply = (await this.redis.accept(
      keys.length,
      ...keys,
      request.id,
      request.sender,
      request.envelope,
      this.retentionMs,
      request.meta,
      rate.windowMs,
      rate.max,
      rate.keys.length,
      ...request.devices.map((device) => this.p + channels.device(device)),
    )) as [number, string, ...number[]];
    const [status, record, ...offsetList] = reply;
    if (status === 2)
      return { duplicate: false, rateLimited: true, seq: 0, acceptedAt: 0, offsets: {} };
    const [sender, seq, acceptedAt] = record.split('|') as [string, string, string];
    if (sender !== request.sender) throw idTaken();
    const offsets: Record<string, number> = {};
    request.devices.forEach((device, i) => {
      if (status === 0) offsets[device] = Number(offsetList[i]);
    });
    return {
      duplicate: status === 1,
      rateLimited: false,
      seq: Number(seq),
      acceptedAt: Number(acceptedAt),
      offsets,
    };
  }

  async acceptedBefore(id: string) {
    const record = await this.redis.get(`${this.p}acc:${id}`);
    if (!record) return null;
    const [sender, seq, acceptedAt] = record.split('|') as [string, string, string];
    return { sender, seq: Number(seq), acceptedAt: Number(acceptedAt) };
  }

  async fetch(device: string, after: number, limit: number): Promise<FetchResult> {
    const [expired, from, next, members] = (await this.redis.fetch(
      ...this.inboxKeys(device),
      after,
      limit,
      this.retentionMs,
    )) as [number, number, number, string[]];
    const all = members.map(parseItem);
    const items = all.slice(0, limit);
    const firstKept = all[0]?.offset ?? next + 1;
    return { items, more: all.length > limit, gap: expiredGap(expired, from, firstKept) };
  }

  async ack(device: string, upTo: number) {
    const flat = (await this.redis.ack(...this.inboxKeys(device), upTo)) as string[];
    const removed: { id: string; sender: string }[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      removed.push({ id: flat[i] as string, sender: flat[i + 1] as string });
    }
    return removed;
  }

  async pending(device: string): Promise<number> {
    return this.redis.zcard(this.inboxKeys(device)[0]);
  }

  async dropInbox(device: string): Promise<void> {
    await this.redis.del(...this.inboxKeys(device));
  }

  async claimOnce(key: string, expiresAt: number): Promise<boolean> {
    const ttl = Math.max(1, expiresAt - Date.now());
    return (await this.redis.set(`${this.p}claim:${key}`, '1', 'PX', ttl, 'NX')) === 'OK';
  }

  async hit(key: string, windowMs: number): Promise<number> {
    return Number(await this.redis.hit(`${this.p}hit:${key}`, windowMs));
  }

  async appendStatements(expectedVersion: number, statements: readonly string[]) {
    return (await this.redis.append(`${this.p}directory`, expectedVersion, ...statements)) === 1;
  }

  async readStatements(after: number): Promise<string[]> {
    return this.redis.lrange(`${this.p}directory`, after, -1);
  }

  async touchPresence(office: string, connection: string, expiresAt: number) {
    return Number(await this.redis.presence(`${this.p}presence:${office}`, connection, expiresAt));
  }

  async dropPresence(office: string, connection: string) {
    return Number(await this.redis.presence(`${this.p}presence:${office}`, connection, 0));
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.redis.publish(this.p + channel, message);
  }

  async subscribe(channel: string, handler: Handler): Promise<void> {
    const set = this.handlers.get(channel) ?? new Set();
    set.add(handler);
    this.handlers.set(channel, set);
    if (set.size === 1) await this.subscriber.subscribe(this.p + channel);
  }

  async unsubscribe(channel: string, handler: Handler): Promise<void> {
    const set = this.handlers.get(channel);
    if (!set?.delete(handler) || set.size > 0) return;
    this.handlers.delete(channel);
    await this.subscriber.unsubscribe(this.p + channel);
  }

  async ping(): Promise<void> {
    await this.redis.ping();
  }

  async close(): Promise<void> {
    this.handlers.clear();
    await Promise.allSettled([this.redis.quit(), this.subscriber.quit()]);
  }

  /** Deletes every key of this engine's prefix (tests clean up with it). */
  async destroy(): Promise<void> {
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.p}*`, 'COUNT', 500);
      if (keys.length > 0) await this.redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  }

  private inboxKeys(device: string): [string, string] {
    return [`${this.p}inbox:${device}`, `${this.p}inboxmeta:${device}`];
  }
}
