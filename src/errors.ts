import { ERRORS, type ErrorCode } from '../protocol/errors.js';
import type { WireError } from '../protocol/v1/primitives.js';

/**
 * The one error class for bad input from outside: a stable `code` from protocol/errors.ts and,
 * where a caller needs them, `details` (which claim, which devices are missing...).
 *
 * @example
 * try { await openEnvelope(...) } catch (e) { if (isLiaisonError(e, 'CERT_REVOKED')) ... }
 */
export class LiaisonError extends Error {
  override readonly name = 'LiaisonError';
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message?: string, details?: Record<string, unknown>) {
    super(message ?? ERRORS[code].message);
    this.code = code;
    this.details = details;
  }

  /** HTTP status for this error. */
  get status(): number {
    return ERRORS[this.code].status;
  }

  /** The error as it crosses the wire. */
  toWire(): WireError {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/** True when `error` is a LiaisonError, with the given code if one is named. */
export const isLiaisonError = (error: unknown, code?: ErrorCode): error is LiaisonError =>
  error instanceof LiaisonError && (code === undefined || error.code === code);

/** The first few schema issues, as `details` for VALIDATION_FAILED-style errors. */
export const issuesOf = (error: {
  issues: readonly { path: readonly PropertyKey[]; message: string }[];
}): { issues: string[] } => ({
  issues: error.issues.slice(0, 5).map((i) => `${i.path.map(String).join('.')}: ${i.message}`),
});
