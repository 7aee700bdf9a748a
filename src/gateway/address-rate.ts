import { LiaisonError } from '../errors.js';

/** Addresses tracked in one window at most; past it, the window starts over (memory is bounded). */
const MAX_ADDRESSES = 10_000;

/**
 * A fixed-window count per client address, for requests anyone may make without a token
 * (directory posts): past `max` in a window, RATE_LIMITED with when to retry.
 * @example const limit = addressRate({ max: 30, windowMs: 60_000 }); limit.take(request.ip);
 */
export function addressRate(options: { max: number; windowMs: number }, clock = Date.now) {
  let windowStart = 0;
  let counts = new Map<string, number>();
  return {
    take(address: string): void {
      const now = clock();
      if (now - windowStart >= options.windowMs || counts.size >= MAX_ADDRESSES) {
        windowStart = now;
        counts = new Map();
      }
      const used = (counts.get(address) ?? 0) + 1;
      counts.set(address, used);
      if (used > options.max) {
        throw new LiaisonError('RATE_LIMITED', undefined, {
          limitPerMinute: Math.round((options.max * 60_000) / options.windowMs),
          retryAfterMs: windowStart + options.windowMs - now,
        });
      }
    },
  };
}
