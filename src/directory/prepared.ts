import type { Signed } from '../../protocol/v1/certificate.js';
import { DecodedSigned } from '../crypto/signed.js';
import { fromBase64Url, fromUtf8 } from '../crypto/sodium.js';
import { statementDigest } from '../crypto/statement.js';

/**
 * A statement decoded once for every step of applying it: placing it in the log (hash, claimed
 * seq and prev), checking its signature and its certificate's, reading its content. Nothing
 * here is verified: it only spares decoding the same bytes again.
 */
export interface PreparedStatement {
  readonly signed: Signed;
  /** Undefined when the payload or the signature is not base64url. */
  readonly decoded: DecodedSigned | undefined;
  /** The payload's bytes; undefined when it is not base64url. */
  readonly payload: Uint8Array | undefined;
  /** Its hash (statementDigest); undefined when the payload is not base64url. */
  readonly digest: Uint8Array | undefined;
  /** Its certificate decoded, when someone read it ahead (the bulk signature checks). */
  certificate?: DecodedSigned;
}

export function prepare(signed: Signed): PreparedStatement {
  const decoded = DecodedSigned.of(signed);
  let payload = decoded?.payload;
  if (!payload) {
    try {
      payload = fromBase64Url(signed.payload);
    } catch {
      payload = undefined;
    }
  }
  return { signed, decoded, payload, digest: payload && statementDigest(payload) };
}

/**
 * The place in the log a statement claims (`seq`, `prev`), read WITHOUT checking its signature:
 * only to refuse one that cannot follow the log before spending a verification on it.
 */
export function claimedPosition(prepared: PreparedStatement): { seq?: unknown; prev?: unknown } {
  let json: unknown;
  if (prepared.decoded) json = prepared.decoded.json();
  else if (prepared.payload) {
    try {
      json = JSON.parse(fromUtf8(prepared.payload));
    } catch {
      json = undefined;
    }
  }
  return typeof json === 'object' && json !== null ? json : {};
}
