import type { z } from 'zod';
import { ERRORS } from '../../protocol/errors.js';
import type { WireError } from '../../protocol/v1/primitives.js';
import { redisUnavailable } from '../engine/redis/health.js';
import { issuesOf, LiaisonError } from '../errors.js';

/**
 * Any error as a LiaisonError: its own, UNAVAILABLE (retryable) for Redis unable to serve, or
 * INTERNAL for what was not meant for the wire.
 */
export const asLiaisonError = (error: unknown): LiaisonError =>
  error instanceof LiaisonError ? error : (redisUnavailable(error) ?? new LiaisonError('INTERNAL'));

/** An error as it crosses the wire: a LiaisonError's code and details, or a bare INTERNAL. */
export const wireError = (error: unknown): WireError =>
  error instanceof LiaisonError
    ? error.toWire()
    : (redisUnavailable(error)?.toWire() ?? { code: 'INTERNAL', message: ERRORS.INTERNAL.message });

/** Deepest nesting any protocol message has, with room to spare (an envelope is 4 levels). */
export const MAX_DEPTH = 32;

/**
 * Throws VALIDATION_FAILED when a value nests deeper than MAX_DEPTH: checked before any JSON or
 * schema work, whose recursion a value 300,000 levels deep would overflow. Iterative, so it
 * cannot overflow itself.
 */
export function checkDepth(value: unknown, max = MAX_DEPTH): void {
  const stack: [unknown, number][] = [[value, 1]];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const [item, depth] = next;
    // Bytes (a Socket.IO binary attachment) nest nothing: not walked byte by byte.
    if (typeof item !== 'object' || item === null || ArrayBuffer.isView(item)) continue;
    if (item instanceof ArrayBuffer) continue;
    if (depth > max) {
      throw new LiaisonError('VALIDATION_FAILED', `nested deeper than ${max} levels`);
    }
    for (const child of Object.values(item)) stack.push([child, depth + 1]);
  }
}

/**
 * Network input through its protocol schema, or VALIDATION_FAILED naming the first issues.
 * @example const { after, limit } = parse(FetchRequest, request);
 */
export function parse<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    throw new LiaisonError('VALIDATION_FAILED', undefined, issuesOf(parsed.error));
  return parsed.data;
}

/** A Socket.IO connect refusal: the client reads the wire error from `error.data`. */
export const connectRefusal = (refusal: LiaisonError): Error =>
  Object.assign(new Error(refusal.message), { data: refusal.toWire() });

/** A Socket.IO acknowledgement callback. */
export type Ack = (reply: Record<string, unknown>) => void;

/**
 * Answers one client request: `{ ok: true, ...result }`, or `{ ok: false, error }` with a stable
 * code, never a crash. `onError` sees each failure (to count it, or log an INTERNAL one).
 * @example socket.on('feed:subscribe', (request, ack) => answer(ack, () => search(parse(...))));
 */
export async function answer(
  ack: Ack,
  work: () => Promise<Record<string, unknown>>,
  onError?: (error: unknown, wire: WireError) => void,
): Promise<void> {
  try {
    ack({ ok: true, ...(await work()) });
  } catch (error) {
    const wire = wireError(error);
    onError?.(error, wire);
    ack({ ok: false, error: wire });
  }
}
