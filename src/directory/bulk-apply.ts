import type { Signed } from '../../protocol/v1/certificate.js';
import { backend, useBackend } from '../crypto/current.js';
import { DecodedSigned, NOT_JSON, type SignedDomain } from '../crypto/signed.js';
import { type SignatureCheck, VerifyPool, withVerified } from '../crypto/verify-pool.js';
import type { Applied, Directory } from './directory.js';
import type { PreparedStatement } from './prepared.js';

/**
 * Statements whose signatures are checked ahead together: each window's decoded statements and
 * checks are garbage once it is applied and staged. A small window's garbage dies young in V8's
 * new space; one of 2,000 statements outlived it, was promoted, and the old space a 100,000-device
 * start grew that way stayed committed at ready. 500 statements are ~750 checks, still enough to
 * keep the worker threads busy (they start once a batch asked for PARALLEL_FROM).
 */
export const BULK_WINDOW = 500;

/** `statements` in windows of BULK_WINDOW, for applyInBulk. */
export function* inWindows(statements: readonly Signed[]): Generator<Signed[]> {
  for (let at = 0; at < statements.length; at += BULK_WINDOW) {
    yield statements.slice(at, at + BULK_WINDOW);
  }
}

/** The signature check openSigned will make of `decoded` (the very same message bytes). */
const checkOf = (domain: SignedDomain, decoded: DecodedSigned, publicKey: Uint8Array) => ({
  message: decoded.message(domain),
  signature: decoded.signature,
  publicKey,
});

/**
 * Every signature applying `statements` will check: each statement's, and its certificate's
 * (whose decoding is kept on the statement for verifyCertificate).
 */
function checksOf(
  statements: readonly PreparedStatement[],
  authorityKey: Uint8Array,
): SignatureCheck[] {
  const checks: SignatureCheck[] = [];
  for (const prepared of statements) {
    const { decoded } = prepared;
    if (!decoded) continue;
    checks.push(checkOf('liaison/v1/statement', decoded, authorityKey));
    const json = decoded.json();
    if (json === NOT_JSON || typeof json !== 'object' || json === null) continue;
    const certificate = (json as { certificate?: unknown }).certificate;
    if (typeof certificate !== 'object' || certificate === null) continue;
    const cert = DecodedSigned.of(certificate);
    if (!cert) continue;
    prepared.certificate = cert;
    checks.push(checkOf('liaison/v1/certificate', cert, authorityKey));
  }
  return checks;
}

/**
 * Applies the new statements of `windows` (repeats left out) in order, exactly as
 * `applyVerified` one by one would (same checks, same errors, each signature verified once),
 * window by window (see inWindows): each is placed (`directory.fresh`, no signature checked for
 * garbage out of place) and its signatures verified on worker threads while the window before
 * is applied. Each window, once applied, is handed to `onWindow` (awaited before the next is
 * applied) and let go of, so a large batch read in windows is never in memory whole. Returns
 * how many statements were applied.
 */
export async function applyInBulk(
  directory: Directory,
  windows: AsyncIterable<readonly Signed[]> | Iterable<readonly Signed[]>,
  onWindow: (window: readonly PreparedStatement[], applied: readonly Applied[]) => Promise<void>,
): Promise<number> {
  const real = backend();
  const key = directory.authority.signingPublicKey;
  const pool = new VerifyPool(real);
  const cursor = directory.freshCursor();
  let count = 0;
  const source =
    Symbol.asyncIterator in windows
      ? windows[Symbol.asyncIterator]()
      : (windows as Iterable<readonly Signed[]>)[Symbol.iterator]();
  /** The next window placed and its signatures being checked; undefined after the last. */
  const verifyNext = async () => {
    const step = await source.next();
    if (step.done) return undefined;
    const window = directory.fresh(step.value, cursor);
    const checks = checksOf(window, key);
    return { window, checks, results: await pool.verify(checks) };
  };
  let next: ReturnType<typeof verifyNext> | undefined;
  try {
    next = verifyNext();
    for (let current = await next; current; current = await next) {
      const { window, checks, results } = current;
      next = verifyNext();
      const applied: Applied[] = [];
      // Synchronous from here to the restore: nothing else runs on the backend meanwhile.
      useBackend(withVerified(real, checks, results));
      try {
        for (const prepared of window) {
          const done = directory.applyVerified(prepared.signed, prepared);
          if (done) applied.push(done);
        }
      } finally {
        useBackend(real);
      }
      count += applied.length;
      if (window.length > 0) await onWindow(window, applied);
    }
  } finally {
    await next?.catch(() => undefined);
    await pool.close();
  }
  return count;
}
