import type { Signed } from '../../protocol/v1/certificate.js';
import { LiaisonError } from '../errors.js';
import { SIGNATURE_BYTES } from './backend.js';
import { backend } from './current.js';
import { encode } from './encoding.js';
import { briefBytes, fromBase64UrlBriefly, fromUtf8, toBase64Url, utf8 } from './sodium.js';

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

/** What `DecodedSigned.json` answers for a payload that is not UTF-8 JSON. */
export const NOT_JSON: unique symbol = Symbol('not JSON');
const NOT_PARSED = Symbol('not parsed');

/**
 * A signed object's payload and signature decoded from base64url once, and its JSON parsed at
 * most once, for code that reads one object several times (a large directory's statements are
 * hashed, placed, verified and applied). `openSigned` uses it only for the very texts it came from.
 */
export class DecodedSigned {
  #json: unknown = NOT_PARSED;

  private constructor(
    readonly payloadText: string,
    readonly signatureText: string,
    readonly payload: Uint8Array,
    readonly signature: Uint8Array,
  ) {}

  /** Undefined when the payload or the signature is not base64url (or is not a string). */
  static of(signed: { readonly payload?: unknown; readonly signature?: unknown } | null) {
    const { payload, signature } = signed ?? {};
    if (typeof payload !== 'string' || typeof signature !== 'string') return undefined;
    try {
      // Decoded briefly: a DecodedSigned is read while a statement is applied, never kept.
      return new DecodedSigned(
        payload,
        signature,
        fromBase64UrlBriefly(payload),
        fromBase64UrlBriefly(signature),
      );
    } catch {
      return undefined;
    }
  }

  /** Whether this is the decoding of exactly `signed`'s texts. */
  matches(signed: Signed): boolean {
    return this.payloadText === signed.payload && this.signatureText === signed.signature;
  }

  /** The signed message for `domain`, made once: a check ahead and openSigned share it. */
  message(domain: SignedDomain): Uint8Array {
    if (this.#message?.domain !== domain) {
      // Brief like the payload: verified (or packed for a worker) and let go of.
      this.#message = { domain, bytes: encode([domain, this.payload], briefBytes) };
    }
    return this.#message.bytes;
  }
  #message: { domain: SignedDomain; bytes: Uint8Array } | undefined;

  /** The payload parsed as UTF-8 JSON, or NOT_JSON. */
  json(): unknown {
    if (this.#json === NOT_PARSED) {
      try {
        this.#json = JSON.parse(fromUtf8(this.payload));
      } catch {
        this.#json = NOT_JSON;
      }
    }
    return this.#json;
  }
}
/**
 * Checks the signature over the payload's exact bytes and returns the parsed JSON (still to be
 * validated by the caller). Throws `invalid` for undecodable input, `untrusted` for a signature
 * that does not verify under `publicKey`. `decoded`, when it is the decoding of `signed`, spares
 * decoding and parsing it again.
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
  decoded?: DecodedSigned,
): unknown {
  const opened = decoded?.matches(signed) ? decoded : DecodedSigned.of(signed);
  if (!opened) throw new LiaisonError(codes.invalid, 'payload or signature is not base64url');
  if (opened.signature.length !== SIGNATURE_BYTES) throw new LiaisonError(codes.invalid);
  if (!backend().verify(opened.signature, opened.message(domain), publicKey)) {
    throw new LiaisonError(codes.untrusted);
  }
  const json = opened.json();
  if (json === NOT_JSON) throw new LiaisonError(codes.invalid, 'payload is not UTF-8 JSON');
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
