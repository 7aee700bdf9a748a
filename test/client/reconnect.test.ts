import { describe, expect, it } from 'vitest';
import { reconnectDelayMs } from '../../src/client/session.js';
import { openSocket } from '../../src/client/socket.js';

/** When a client comes back after losing its session (PROTOCOL.md §9.1), without a clock. */
describe('reconnection delays', () => {
  const lowest = () => 0;
  const highest = () => 0.999;

  it('after a network loss Socket.IO backs off from 0.5 s doubling to 5 s, each delay spread ±50 %', () => {
    // Nothing listens on port 9: the socket is made and closed, never connected.
    const socket = openSocket('http://127.0.0.1:9', async () => 'no token');
    try {
      expect(socket.io.reconnection()).toBe(true);
      expect(socket.io.reconnectionDelay()).toBe(500);
      expect(socket.io.reconnectionDelayMax()).toBe(5_000);
      expect(socket.io.randomizationFactor()).toBe(0.5);
    } finally {
      socket.close();
    }
  });

  it("after the server's notice it waits the server's hint plus a jitter below 1 s", () => {
    const closing = { code: 'SERVER_SHUTDOWN' as const, reconnectAfterMs: 3_000 };
    expect(reconnectDelayMs(closing, 0, lowest)).toBe(3_000);
    expect(reconnectDelayMs(closing, 0, highest)).toBe(3_999);
    expect(reconnectDelayMs({ code: 'TOKEN_EXPIRED' }, 0, highest)).toBe(999);
    expect(reconnectDelayMs(undefined, 0, lowest)).toBe(0);
  });

  it('a session replaced again and again waits longer each time, 1 s doubling to at most 60 s', () => {
    const replaced = { code: 'SESSION_REPLACED' as const };
    const waits = [1, 2, 3, 4, 8, 20].map((streak) => reconnectDelayMs(replaced, streak, lowest));
    expect(waits).toEqual([0, 1_000, 2_000, 4_000, 60_000, 60_000]);
    expect(reconnectDelayMs(replaced, 3, highest)).toBe(2_999);
  });
});
