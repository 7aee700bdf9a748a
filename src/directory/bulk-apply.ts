import type { Signed } from '../../protocol/v1/certificate.js';
import { backend, useBackend } from '../crypto/current.js';
import { encode } from '../crypto/encoding.js';
import type { SignedDomain } from '../crypto/signed.js';
import { fromBase64Url, fromUtf8 } from '../crypto/sodium.js';
import { type SignatureCheck, VerifyPool, withVerified } from '../crypto/verify-pool.js';
import type { Applied, Directory } from './directory.js';

/** Statements whose signatures are checked ahead together (bounds the memory of the checks). */
const WINDOW = 8_000;

/** The signature of a signed object as openSigned checks it, or nothing when it cannot be read. */
function checkOf(domain: SignedDomain, signed: unknown, publicKey: Uint8Array) {
  const { payload, signature } = (signed ?? {}) as { payload?: unknown; signature?: unknown };
  if (typeof payload !== 'string' || typeof signature !== 'string') return undefined;
  try {
    const bytes = fromBase64Url(payload);
    return {
      bytes,
      check: { message: encode([domain, bytes]), signature: fromBase64Url(signature), publicKey },
    };
  } catch {
    return undefined;
  }
}

/** Every signature applying `statements` will check: each statement's, and its certificate's. */
function checksOf(statements: readonly Signed[], authorityKey: Uint8Array): SignatureCheck[] {
  const checks: SignatureCheck[] = [];
  for (const signed of statements) {
    const statement = checkOf('liaison/v1/statement', signed, authorityKey);
    if (!statement) continue;
    checks.push(statement.check);
    let certificate: unknown;
    try {
      certificate = (JSON.parse(fromUtf8(statement.bytes)) as { certificate?: unknown })
        ?.certificate;
    } catch {
      continue;
    }
    const cert = certificate
      ? checkOf('liaison/v1/certificate', certificate, authorityKey)
      : undefined;
    if (cert) checks.push(cert.check);
  }
  return checks;
}

/**
 * Applies `statements` to `directory` in order, exactly as `applyVerified` one by one would
 * (same checks, same errors, each signature verified once), with the signatures of each window
 * of statements verified ahead on worker threads while the window before is applied. Returns
 * what was applied (repeats left out).
 */
export async function applyInBulk(
  directory: Directory,
  statements: readonly Signed[],
): Promise<Applied[]> {
  const real = backend();
  const key = directory.authority.signingPublicKey;
  const pool = new VerifyPool(real);
  const applied: Applied[] = [];
  const verifyWindow = (at: number) => {
    const window = statements.slice(at, at + WINDOW);
    const checks = checksOf(window, key);
    return pool.verify(checks).then((results) => ({ window, checks, results }));
  };
  let next = statements.length > 0 ? verifyWindow(0) : undefined;
  try {
    for (let at = 0; next; at += WINDOW) {
      const { window, checks, results } = await next;
      next = at + WINDOW < statements.length ? verifyWindow(at + WINDOW) : undefined;
      // Synchronous from here to the restore: nothing else runs on the backend meanwhile.
      useBackend(withVerified(real, checks, results));
      try {
        for (const signed of window) {
          const done = directory.applyVerified(signed);
          if (done) applied.push(done);
        }
      } finally {
        useBackend(real);
      }
    }
  } finally {
    await next?.catch(() => undefined);
    await pool.close();
  }
  return applied;
}
