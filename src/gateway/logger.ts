import { pino } from 'pino';

/**
 * The gateway's structured logger. Tokens and envelopes never reach a log line: the code does not
 * log them, and redaction catches them should an object that holds one be logged by mistake.
 */
export function createLogger(level: string, instance: string) {
  return pino({
    level,
    base: { instance },
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
      ],
      censor: '[redacted]',
    },
  });
}
