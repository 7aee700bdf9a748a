import type { Signed } from '../../protocol/v1/certificate.js';
import { LiaisonError } from '../errors.js';
import type { Directory } from './directory.js';

/** The newest directory head a device accepted: what it keeps across restarts. */
export interface KnownHead {
  readonly version: number;
  /** base64url of the hash of statement `version`. */
  readonly hash: string;
  readonly issuedAt: number;
}

/**
 * Decides whether a device may trust its directory as a gateway served it, given the head that
 * came with it and the newest head it accepted before (persist the result). Refuses an expired,
 * forged or forked head (checkHead's codes), an older one than before or a directory shorter than
 * before (DIRECTORY_ROLLBACK: statements may be withheld), and a missing head once one was seen.
 * Before any head was ever published (nothing known, nothing served) the directory is taken as is.
 */
export function acceptHead(
  directory: Directory,
  served: Signed | undefined,
  known: KnownHead | undefined,
  now: number,
): KnownHead | undefined {
  if (known) {
    const ours = directory.positionAt(known.version);
    if (ours === undefined) {
      throw new LiaisonError(
        'DIRECTORY_ROLLBACK',
        'the directory is shorter than one seen before',
        {
          version: directory.version,
          seen: known.version,
        },
      );
    }
    if (ours.hash !== known.hash) {
      throw new LiaisonError('DIRECTORY_FORK', undefined, { version: known.version });
    }
  }
  if (!served) {
    if (known) {
      throw new LiaisonError('DIRECTORY_ROLLBACK', 'no directory head is served any more');
    }
    return undefined;
  }
  const head = directory.checkHead(served, now);
  if (known && (head.version < known.version || head.issuedAt < known.issuedAt)) {
    throw new LiaisonError('DIRECTORY_ROLLBACK', 'the directory head is older than one seen', {
      version: head.version,
      seen: known.version,
    });
  }
  return { version: head.version, hash: head.hash, issuedAt: head.issuedAt };
}
