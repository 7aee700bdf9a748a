import type { Signed } from '../../protocol/v1/certificate.js';
import { LiaisonError } from '../errors.js';
import { SIGNATURE_BYTES } from './backend.js';
import { backend } from './current.js';
import { encode } from './encoding.js';
import { fromBase64Url, fromUtf8, toBase64Url, utf8 } from './sodium.js';

/** What a signed object is for; part of the signed bytes, so one kind cannot pass as another. */
export type SignedDomain =
  | 'liaison/v1/certificate'
  | 'liaison/v1/statement'
  | 'liaison/v1/directory-head'
  | 'liaison/v1/record-checkpoint'
  | 'liaison/v1/enrolment-request'
  | 'liaison/v1/prekey';

/** Signs the JSON of `payload` with an Ed25519 secret key (libsodium must be ready). */
export function signObject(domain: SignedDomain, payload: object, secretKey: Uint8Array): Signed {
  const bytes = utf8(JSON.stringify(payload));
  const signature = backend().sign(encode([domain, bytes]), secretKey);
  return { payload: toBase64Url(bytes), signature: toBase64Url(signature) };
}

/**
 * Checks the signature over the payload's exact bytes and returns the parsed JSON (still to be
 * validated by the caller). Throws `invalid` for undecodable input, `untrusted` for a signature
 * that does not verify under `publicKey`.
 */
export function openSigned(
  domain: SignedDomain,
  signed: Signed,
  publicKey: Uint8Array,
  codes: {
    invalid:
      | 'CERT_INVALID'
      | 'STATEMENT_INVALID'
      | 'DIRECTORY_HEAD_INVALID'
      | 'CHECKPOINT_INVALID'
      | 'ENROLMENT_REQUEST_INVALID'
      | 'PREKEY_INVALID';
    untrusted:
      | 'CERT_UNTRUSTED'
      | 'STATEMENT_UNTRUSTED'
      | 'DIRECTORY_HEAD_INVALID'
      | 'CHECKPOINT_INVALID'
      | 'ENROLMENT_REQUEST_INVALID'
      | 'PREKEY_INVALID';
  },
): unknown {
  let bytes: Uint8Array;
  let signature: Uint8Array;
  try {
    bytes = fromBase64Url(signed.payload);
    signature = fromBase64Url(signed.signature);
  } catch {
    throw new LiaisonError(codes.invalid, 'payload or signature is not base64url');
  }
  if (signature.length !== SIGNATURE_BYTES) throw new LiaisonError(codes.invalid);
  if (!backend().verify(signature, encode([domain, bytes]), publicKey)) {
    throw new LiaisonError(codes.untrusted);
  }
  let json: unknown;
  try {
    json = JSON.parse(fromUtf8(bytes));
  } catch {
    throw new LiaisonError(codes.invalid, 'payload is not UTF-8 JSON');
  }
  rejectOtherVersions(json, 1);
  return json;
}

/**
 * Throws UNSUPPORTED_VERSION for an object that declares a protocol version other than
 * `supported` (signed objects are at 1; envelope headers have their own, `ENVELOPE_VERSION`).
 */
export function rejectOtherVersions(value: unknown, supported: number): void {
  const v = (value as { v?: unknown } | null)?.v;
  if (typeof v === 'number' && v !== supported) {
    throw new LiaisonError('UNSUPPORTED_VERSION', undefined, {
      version: v,
      supported: [supported],
    });
  }
}
