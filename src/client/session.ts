import type { Socket } from 'socket.io-client';
import type { z } from 'zod';
import { ClosingEvent } from '../../protocol/v1/events.js';

export type ClosingCode = z.infer<typeof ClosingEvent>['code'];

/** What a client tells its user about its session with a server. */
export interface SessionNotices {
  /** The server said why it is closing this session (PROTOCOL.md §9.3). */
  closing(code: ClosingCode, reconnectInMs: number | undefined): void;
  /** The server closed the session for good (revoked): no reconnection is attempted. */
  ended(code: ClosingCode): void;
}

/** Spread of a reconnection delay, so a fleet told to come back does not come back at once. */
const JITTER_MS = 1_000;
/** The backoff's floor after a network loss (Socket.IO's `reconnectionDelay`, see socket.ts). */
const BACKOFF_FLOOR_MS = 500;

const jitter = () => Math.floor(Math.random() * JITTER_MS);

/**
 * Keeps a session alive across what the server does to it. Socket.IO reconnects by itself after a
 * network loss (jittered backoff) but not when the server closes the socket, which it does after a
 * `session:closing` notice: then this reconnects after the server's `reconnectAfterMs` hint (or
 * at once, plus jitter) with a fresh token — except after DEVICE_REVOKED, which is final. A
 * SERVER_SHUTDOWN hint also sets the floor of the backoff for the next network reconnection.
 *
 * @example
 * followSession(socket, { closing: (code) => warn(code), ended: () => stop() }, () => stopped);
 */
export function followSession(
  socket: Socket,
  notices: SessionNotices,
  stopped: () => boolean,
): void {
  let last: z.infer<typeof ClosingEvent> | undefined;
  socket.on('session:closing', (value: unknown) => {
    const parsed = ClosingEvent.safeParse(value);
    if (!parsed.success) return;
    last = parsed.data;
    const final = last.code === 'DEVICE_REVOKED';
    if (last.reconnectAfterMs !== undefined)
      socket.io.reconnectionDelay(Math.max(BACKOFF_FLOOR_MS, last.reconnectAfterMs));
    notices.closing(last.code, final ? undefined : (last.reconnectAfterMs ?? 0));
  });
  socket.on('connect', () => {
    socket.io.reconnectionDelay(BACKOFF_FLOOR_MS);
    last = undefined;
  });
  socket.on('disconnect', (reason) => {
    if (reason !== 'io server disconnect' || stopped()) return;
    const code = last?.code;
    if (code === 'DEVICE_REVOKED') {
      notices.ended(code);
      return;
    }
    const delay = (last?.reconnectAfterMs ?? 0) + jitter();
    last = undefined;
    setTimeout(() => {
      if (!stopped() && !socket.connected) socket.connect();
    }, delay);
  });
}
