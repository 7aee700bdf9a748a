import type { FastifyInstance } from 'fastify';
import type { ErrorCode } from '../../protocol/errors.js';
import { LiaisonError } from '../errors.js';
import { asLiaisonError } from './wire.js';

/**
 * Fastify's own refusals (a body too large, not JSON, a media type it does not parse...) as the
 * protocol's errors: a caller's mistake is never INTERNAL.
 */
function fromFastify(error: unknown): LiaisonError {
  const { statusCode } = error as { statusCode?: number };
  if (error instanceof LiaisonError) return error;
  if (statusCode === 413) return new LiaisonError('PAYLOAD_TOO_LARGE');
  if (statusCode === 404 || statusCode === 405) return new LiaisonError('NOT_FOUND');
  if (statusCode === 415) {
    return new LiaisonError('VALIDATION_FAILED', 'send the body as application/json');
  }
  if (statusCode === 400) return new LiaisonError('VALIDATION_FAILED', 'the body is not JSON');
  if (statusCode !== undefined && statusCode >= 400 && statusCode < 500) {
    return new LiaisonError('VALIDATION_FAILED', 'the request is malformed', {
      status: statusCode,
    });
  }
  return asLiaisonError(error);
}

/**
 * Every failed HTTP request answers `{ error: { code, message, details? } }` with the code's
 * status; an INTERNAL one is logged (never sent with its cause). `onRefused` counts refusals.
 */
export function answerErrorsOnTheWire(
  app: FastifyInstance,
  options: { onRefused?: (code: ErrorCode) => void; notFound?: boolean } = {},
): void {
  app.setErrorHandler((error, _request, reply) => {
    const liaison = fromFastify(error);
    if (liaison.code === 'INTERNAL') app.log.error({ err: error }, 'request failed');
    options.onRefused?.(liaison.code);
    void reply.status(liaison.status).send({ error: liaison.toWire() });
  });
  if (options.notFound) {
    app.setNotFoundHandler((_request, reply) => {
      void reply.status(404).send({ error: new LiaisonError('NOT_FOUND').toWire() });
    });
  }
}
