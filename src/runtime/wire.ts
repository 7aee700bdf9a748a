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
