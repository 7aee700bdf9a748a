import { isLiaisonError } from '../errors.js';

/**
 * A server cannot start: the message is one line naming the cause and what to do. The CLI prints
 * it alone (no stack) and exits with code 1, whatever is still open.
 */
export class StartupError extends Error {}

/** How long a start waits for Redis before it gives up. */
export const REDIS_START_TIMEOUT_MS = 5_000;

/** A Redis URL fit to print: no password. */
export function shownRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return 'the configured REDIS_URL';
  }
}

/**
 * Resolves once a Redis answers PING at `url`; a StartupError after `timeoutMs` otherwise, so an
 * unreachable Redis stops the start at once instead of a client retrying forever.
 */
export async function requireRedis(url: string, timeoutMs = REDIS_START_TIMEOUT_MS): Promise<void> {
  // Loaded here, not above: the CLI imports StartupError for every command, most without Redis.
  const { Redis } = await import('ioredis');
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  let last: Error | undefined;
  redis.on('error', (error: Error) => {
    last = error;
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer within ${timeoutMs / 1000} s`)),
      timeoutMs,
    );
  });
  try {
    await Promise.race([redis.connect().then(() => redis.ping()), timeout]);
  } catch (error) {
    const cause = last?.message ?? (error as Error).message;
    throw new StartupError(
      `Redis at ${shownRedisUrl(url)} does not answer (${cause}): start Redis or set REDIS_URL`,
    );
  } finally {
    clearTimeout(timer);
    redis.disconnect();
  }
}

// The shared directory log in Redis does not verify against this server's pinned authority.
const FOREIGN_DIRECTORY = new Set([
  'STATEMENT_UNTRUSTED',
  'CERT_UNTRUSTED',
  'STATEMENT_OUT_OF_ORDER',
  'STATEMENT_INVALID',
]);

/**
 * A failed start as the one line to print, naming the fix where the cause is known: a directory
 * from another authority, a port in use; anything else keeps its own message.
 */
export function explainStartup(
  error: unknown,
  where: { what: string; redisUrl?: string | undefined; prefix: string; port: number },
): StartupError {
  if (error instanceof StartupError) return error;
  if (isLiaisonError(error) && FOREIGN_DIRECTORY.has(error.code) && where.redisUrl) {
    return new StartupError(
      `the directory in Redis at ${shownRedisUrl(where.redisUrl)} (prefix ${where.prefix}) was signed by another authority (${error.code}): clear the ${where.prefix}* keys or set REDIS_PREFIX to a new prefix`,
    );
  }
  const code = (error as { code?: unknown }).code;
  if (code === 'EADDRINUSE')
    return new StartupError(
      `port ${where.port} is already in use: stop what listens there or choose another port for the ${where.what}`,
    );
  const message = (error as Error).message?.split('\n')[0] ?? String(error);
  return new StartupError(
    `the ${where.what} could not start: ${message}${isLiaisonError(error) ? ` (${error.code})` : ''}`,
  );
}
