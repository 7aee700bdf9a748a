import { pino } from 'pino';

/**
 * The servers' structured logger (gateway and hub). Tokens and envelopes never reach a log line: the code does not
 * log them, and redaction catches them should an object that holds one be logged by mistake.
 */
export function createLogger(level: string, instance: string) {
  return pino({
    level,
    base: { instance },
    serializers: {
      // ioredis attaches the failed command's arguments (an envelope, say) to its errors.
      err: (error: Error) => {
        const { command: _command, ...rest } = pino.stdSerializers.err(error) as Record<
          string,
          unknown
        >;
        return rest;
      },
    },
    redact: {
      paths: [
        'token',
        '*.token',
        'auth',
        '*.auth',
        'envelope',
        '*.envelope',
        'ciphertext',
        '*.ciphertext',
        'req.headers.authorization',
        'req.headers.cookie',
        'err.command',
        '*.err.command',
      ],
      censor: '[redacted]',
    },
  });
}

/**
 * Route options of what probes and scrapers call every few seconds (health, readiness, metrics):
 * their requests are not logged at info, where they would drown what matters. Failures still are.
 */
export const PROBE_ROUTE = { logLevel: 'warn' } as const;
