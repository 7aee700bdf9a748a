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
/** Replacements closer together than this count as one streak (more clients than the cap). */
const REPLACED_STREAK_MS = 60_000;
const REPLACED_DELAY_MAX_MS = 60_000;

/**
 * How long to wait before reconnecting after the server closed the session with `closing`
 * (PROTOCOL.md §9.1): its `reconnectAfterMs`, else at once — but the `streak`-th replacement in a
 * row (SESSION_REPLACED within a minute of the last) waits 1 s doubling to 60 s, so more clients
 * of one device than the gateway keeps take turns slowly instead of replacing each other at
 * once — plus a random jitter below 1 s. `random` is Math.random's shape (tests pass their own).
 *
 * @example
 * setTimeout(reconnect, reconnectDelayMs({ code: 'SERVER_SHUTDOWN', reconnectAfterMs: 3000 }));
 */
export function reconnectDelayMs(
  closing: { code: ClosingCode; reconnectAfterMs?: number | undefined } | undefined,
  streak = 0,
  random: () => number = Math.random,
): number {
  const base =
    closing?.reconnectAfterMs ??
    (closing?.code === 'SESSION_REPLACED' && streak > 1
      ? Math.min(REPLACED_DELAY_MAX_MS, 1_000 * 2 ** (streak - 2))
      : 0);
  return base + Math.floor(random() * JITTER_MS);
}

/**
 * Keeps a session alive across what the server does to it. Socket.IO reconnects by itself after a
 * network loss (jittered backoff) but not when the server closes the socket, which it does after a
 * `session:closing` notice: then this reconnects after `reconnectDelayMs` with a fresh token —
 * except after DEVICE_REVOKED, which is final. A SERVER_SHUTDOWN hint also sets the floor of the
 * backoff for the next network reconnection. The notice tells the user the wait chosen.
 *
 * @example
 * followSession(socket, { closing: (code) => warn(code), ended: () => stop() }, () => stopped);
 */
export function followSession(
  socket: Socket,
  notices: SessionNotices,
  stopped: () => boolean,
): void {
  let last: { code: ClosingCode; delay: number | undefined } | undefined;
  let replaced = { streak: 0, at: 0 };
  socket.on('session:closing', (value: unknown) => {
    const parsed = ClosingEvent.safeParse(value);
    if (!parsed.success) return;
    const closing = parsed.data;
    if (closing.code === 'SESSION_REPLACED') {
      const now = Date.now();
      const streak = now - replaced.at < REPLACED_STREAK_MS ? replaced.streak + 1 : 1;
      replaced = { streak, at: now };
    }
    if (closing.reconnectAfterMs !== undefined)
      socket.io.reconnectionDelay(Math.max(BACKOFF_FLOOR_MS, closing.reconnectAfterMs));
    const delay =
      closing.code === 'DEVICE_REVOKED' ? undefined : reconnectDelayMs(closing, replaced.streak);
    last = { code: closing.code, delay };
    notices.closing(closing.code, delay);
  });
  socket.on('connect', () => {
    socket.io.reconnectionDelay(BACKOFF_FLOOR_MS);
    last = undefined;
  });
  socket.on('disconnect', (reason) => {
    if (reason !== 'io server disconnect' || stopped()) return;
    if (last?.code === 'DEVICE_REVOKED') {
      notices.ended(last.code);
      return;
    }
    const delay = last?.delay ?? reconnectDelayMs(undefined);
    last = undefined;
    setTimeout(() => {
      if (!stopped() && !socket.connected) socket.connect();
    }, delay);
  });
}
