import { io, type Socket } from 'socket.io-client';
import type { z } from 'zod';
import type { WireEncoding } from '../../protocol/v1/compact.js';
import { WireError } from '../../protocol/v1/primitives.js';
import { issuesOf, LiaisonError } from '../errors.js';

/** How long a request waits for its acknowledgement before it counts as unanswered. */
export const ACK_TIMEOUT_MS = 10_000;

/**
 * A Socket.IO connection that proves itself with a fresh single-use token on every
 * (re)connection, over WebSocket only (PROTOCOL.md §9.1), asking for `encoding` (§9.5).
 *
 * @example
 * const socket = openSocket(`${hub}/analyst`, () => createClientToken(keys, { audience }));
 */
export function openSocket(
  url: string,
  token: () => Promise<string>,
  encoding: WireEncoding = 'json',
): Socket {
  return io(url, {
    transports: ['websocket'],
    forceNew: true,
    auth: (cb) => {
      token().then(
        // JSON is the default: only compact is asked for (PROTOCOL.md §9.5).
        (t) => cb(encoding === 'compact' ? { token: t, encoding } : { token: t }),
        () => cb({}),
      );
    },
    // Prompt after a restart: a lost connection is retried within a few seconds, jittered.
    reconnectionDelay: 500,
    reconnectionDelayMax: 5_000,
    randomizationFactor: 0.5,
  });
}

/** A wire error (`{ code, message, details? }`) as a LiaisonError; undefined if it is none. */
export function errorFromWire(value: unknown): LiaisonError | undefined {
  const wire = WireError.safeParse(value);
  if (!wire.success) return undefined;
  const { code, message, details } = wire.data;
  return new LiaisonError(code as never, message, details);
}

/** The server's reason for refusing a connection, if it gave one (else a network problem). */
export const refusalOf = (error: Error & { data?: unknown }) => errorFromWire(error.data);

/**
 * Resolves once connected. A refusal (a wire error from the server) closes the socket and
 * rejects with it; network failures are retried by Socket.IO until the server answers.
 */
export function untilConnected(socket: Socket): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (error: Error & { data?: unknown }) => {
      const refusal = refusalOf(error);
      if (!refusal) return;
      socket.off('connect', onConnect);
      socket.off('connect_error', onError);
      socket.close();
      reject(refusal);
    };
    const onConnect = () => {
      socket.off('connect_error', onError);
      resolve();
    };
    socket.once('connect', onConnect);
    socket.on('connect_error', onError);
  });
}

/**
 * Emits a request and checks its ack against the event's schema: the `ok: true` fields, or a
 * LiaisonError with the server's code. An ack that matches neither is VALIDATION_FAILED.
 */
export async function request<S extends z.ZodType>(
  socket: Socket,
  event: string,
  payload: unknown,
  ack: S,
): Promise<Extract<z.infer<S>, { ok: true }>> {
  const answer: unknown = await socket.timeout(ACK_TIMEOUT_MS).emitWithAck(event, payload);
  const parsed = ack.safeParse(answer);
  if (!parsed.success)
    throw new LiaisonError(
      'VALIDATION_FAILED',
      `the answer to ${event} does not match its schema`,
      issuesOf(parsed.error),
    );
  const value = parsed.data as { ok: boolean; error?: unknown };
  if (!value.ok) throw errorFromWire(value.error) ?? new LiaisonError('INTERNAL');
  return value as Extract<z.infer<S>, { ok: true }>;
}

/** What a client reports when the server sends something it cannot use. */
export interface Problem {
  readonly code: string;
  readonly message: string;
}

/**
 * Listens to server events through their schemas: `on(event, schema, handle)` passes on each
 * value that matches (parsed); one that does not is reported to `invalid` as VALIDATION_FAILED.
 *
 * @example
 * const on = checkedEvents(socket, (problem) => console.warn(problem));
 * on('presence', PresenceEvent, (p) => console.log(p.officeId, p.online));
 */
export function checkedEvents(socket: Socket, invalid: (problem: Problem) => void) {
  return <S extends z.ZodType>(event: string, schema: S, handle: (value: z.infer<S>) => void) => {
    socket.on(event, (value: unknown) => {
      const parsed = schema.safeParse(value);
      if (parsed.success) handle(parsed.data);
      else
        invalid({
          code: 'VALIDATION_FAILED',
          message: `a ${event} event does not match its schema`,
        });
    });
  };
}
