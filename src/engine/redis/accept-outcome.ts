// What an accept step did when its answer did not come in time. ioredis's command timeout gives
// up on the answer, not on the command: the script may have run, or may still run, and store
// the envelope. A busy gateway meets this first (past the rate it sustains, the script's answer
// waits behind others to be read), a stopped or swapping Redis too.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { LiaisonError } from '../../errors.js';
import { RETRY_AFTER_MS, redisUnavailable } from './health.js';

/** Reads of the acceptance record tried, each bounded by the command timeout, before giving up. */
export const OUTCOME_CHECKS = 2;

/** Tells this process's accept calls apart in acceptance records (which call stored an id). */
const PROCESS_TAG = randomBytes(4).toString('base64url');
let calls = 0;

/** A tag for one accept call, stored in the acceptance record it writes. */
export const attemptTag = () => `${PROCESS_TAG}${(calls++).toString(36)}`;

/** An acceptance record `sender|seq|acceptedAt[|attempt]`. */
export function parseRecord(record: string) {
  const [sender, seq, acceptedAt, attempt] = record.split('|') as [
    string,
    string,
    string,
    string | undefined,
  ];
  return { sender, seq: Number(seq), acceptedAt: Number(acceptedAt), attempt };
}

/**
 * True when a failed command may still have run: Redis was reachable but its answer did not come
 * in time, or the connection went while it was on its way. A refusal (out of memory, read-only,
 * loading) is Redis's answer: the script did not run.
 */
export function outcomeUnknown(error: unknown): boolean {
  return redisUnavailable(error)?.details?.reason === 'redis-unreachable';
}

/** UNAVAILABLE for a send whose store step may or may not have completed. */
export const storedUnknown = () =>
  new LiaisonError(
    'UNAVAILABLE',
    'Redis did not answer in time: the envelope may be stored; resend it with the same id',
    { reason: 'redis-timeout', retryAfterMs: RETRY_AFTER_MS, stored: 'unknown' },
  );

/**
 * Reads the acceptance record on the connection that sent the accept: Redis runs one
 * connection's commands in order, so an answer to this read comes after the script ran (or after
 * Redis read and refused it). Returns the record (or null: the script did not store the id), or
 * undefined when no read was answered either.
 */
export async function readAfter(redis: Redis, key: string): Promise<string | null | undefined> {
  for (let i = 0; i < OUTCOME_CHECKS; i++) {
    try {
      return await redis.get(key);
    } catch (error) {
      if (!outcomeUnknown(error)) throw error;
    }
  }
  return undefined;
}
