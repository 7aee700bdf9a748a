import type { Redis } from 'ioredis';
import { LiaisonError } from '../../errors.js';

/** What a client is told to wait before retrying while Redis cannot serve. */
export const RETRY_AFTER_MS = 1_000;

const unavailable = (message: string, reason: string) =>
  new LiaisonError('UNAVAILABLE', message, { reason, retryAfterMs: RETRY_AFTER_MS });

/**
 * A Redis failure as the wire error it means for a client: out of memory, unreachable, timed
 * out, loading its data after a restart... all UNAVAILABLE (retryable, with a retry hint), with a
 * reason. Undefined for anything that is not Redis being unable to serve.
 */
export function redisUnavailable(error: unknown): LiaisonError | undefined {
  if (!(error instanceof Error)) return undefined;
  const { name, message } = error;
  if (name === 'ReplyError' || name === 'ReplyError [Error]') {
    if (message.startsWith('OOM')) return unavailable('Redis out of memory', 'redis-oom');
    if (message.startsWith('LOADING'))
      return unavailable('Redis is loading its data', 'redis-loading');
    if (message.startsWith('MISCONF') || message.startsWith('READONLY')) {
      return unavailable('Redis refuses writes', 'redis-readonly');
    }
    return undefined;
  }
  if (
    name === 'MaxRetriesPerRequestError' ||
    message === 'Command timed out' ||
    message === 'Connection is closed.' ||
    message.startsWith("Stream isn't writeable") ||
    (error as { code?: string }).code === 'ECONNREFUSED'
  ) {
    return unavailable('Redis is unreachable', 'redis-unreachable');
  }
  return undefined;
}

const field = (info: string, name: string) =>
  new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();

/**
 * Throws UNAVAILABLE with the reason unless Redis can keep what Liaison gives it: reachable, its
 * eviction policy `noeviction` (any other silently drops acknowledged envelopes and the record),
 * and taking writes (below `maxmemory`, else "Redis out of memory").
 */
export async function checkRedis(redis: Redis, probeKey: string): Promise<void> {
  let info: string;
  try {
    info = await redis.info('memory');
  } catch (error) {
    throw redisUnavailable(error) ?? unavailable('Redis is unreachable', 'redis-unreachable');
  }
  const policy = field(info, 'maxmemory_policy');
  if (policy !== undefined && policy !== 'noeviction') {
    throw unavailable(
      `Redis evicts keys (maxmemory-policy ${policy}): set maxmemory-policy noeviction`,
      'redis-eviction',
    );
  }
  // A small write, refused exactly when Redis refuses the relay's writes (INFO's figures only
  // approximate its out-of-memory test).
  try {
    await redis.set(probeKey, '1', 'PX', 10_000);
  } catch (error) {
    throw redisUnavailable(error) ?? error;
  }
}
