import type { Signed } from '../../protocol/v1/certificate.js';
import {
  DirectoryHeadPayload,
  type StatementKind,
  StatementPayload,
} from '../../protocol/v1/statement.js';
import { LiaisonError } from '../errors.js';
import type { PinnedAuthority } from './certificate.js';
import { backend } from './current.js';
import { encode } from './encoding.js';
import type { AuthorityKeys } from './keys.js';
import { type DecodedSigned, openSigned, signObject } from './signed.js';
import { fromBase64Url, ready, toBase64Url } from './sodium.js';

/** What a statement of kind K says, beyond the fields every statement has. */
export type StatementContent<K extends StatementKind> = Omit<
  Extract<StatementPayload, { kind: K }>,
  'v' | 'type' | 'id' | 'issuedAt' | 'issuer' | 'kind' | 'seq' | 'prev'
>;

/** Where a directory log ends: its version (the last seq) and that statement's hash. */
export interface LogPosition {
  readonly version: number;
  /** base64url of 32 bytes. */
  readonly hash: string;
}

/** The position of an empty log: version 0, 32 zero bytes. */
export const EMPTY_LOG: LogPosition = { version: 0, hash: 'A'.repeat(43) };

/** Options a caller may fix (test vectors fix both; otherwise a random id and now). */
export interface StatementOptions {
  readonly id?: string;
  readonly issuedAt?: number;
}

/** BLAKE2b-256(encode(["liaison/v1/statement-hash", payloadBytes])) of a signed statement. */
export function statementHash(signed: Signed): string {
  return toBase64Url(statementDigest(fromBase64Url(signed.payload)));
}

/** statementHash as bytes, from the payload's bytes. */
export const statementDigest = (payload: Uint8Array): Uint8Array =>
  backend().hash(32, encode(['liaison/v1/statement-hash', payload]));

/** The log position after `signed` (statement `after.version + 1`). */
export const advance = (after: LogPosition, signed: Signed): LogPosition => ({
  version: after.version + 1,
  hash: statementHash(signed),
});

/**
 * The authority signs a directory change as the next statement of the log that ends at `after`.
 *
 * @example
 * await signStatement(authority, 'link.created', { offices: ['KG-AKZHOL', 'KZ-KORDAI'] },
 *   { after: directory.head })
 */
export async function signStatement<K extends StatementKind>(
  authority: AuthorityKeys,
  kind: K,
  content: StatementContent<K>,
  options: StatementOptions & { readonly after: LogPosition },
): Promise<Signed> {
  await ready;
  const payload = {
    v: 1,
    type: 'liaison.statement',
    id: options.id ?? crypto.randomUUID(),
    issuedAt: options.issuedAt ?? Date.now(),
    issuer: authority.keyId,
    seq: options.after.version + 1,
    prev: options.after.hash,
    kind,
    ...content,
  };
  if (!StatementPayload.safeParse(payload).success) throw new TypeError(`bad ${kind} statement`);
  return signObject('liaison/v1/statement', payload, authority.signingSecretKey);
}

/**
 * Signs statements one after another, each following the last: what the authority's tools and
 * test fixtures use to write a log.
 *
 * @example
 * const log = new StatementLog(authority);
 * await log.sign('office.registered', { officeId: 'KZ-KORDAI', country: 'KZ', name, bcp });
 * directory.applyAll(log.statements);
 */
export class StatementLog {
  readonly statements: Signed[] = [];
  private position: LogPosition;

  constructor(
    private readonly authority: AuthorityKeys,
    after: LogPosition = EMPTY_LOG,
  ) {
    this.position = after;
  }

  get head(): LogPosition {
    return this.position;
  }

  async sign<K extends StatementKind>(
    kind: K,
    content: StatementContent<K>,
    options: StatementOptions = {},
  ): Promise<Signed> {
    const signed = await signStatement(this.authority, kind, content, {
      ...options,
      after: this.position,
    });
    this.append(signed);
    return signed;
  }

  /** Adds a statement signed elsewhere as the next entry (it must follow `head`). */
  append(signed: Signed): void {
    this.position = advance(this.position, signed);
    this.statements.push(signed);
  }
}

/**
 * Verifies a statement's signature against the pinned authority and returns its content.
 * `decoded` (see openSigned) spares decoding it again.
 */
export function verifyStatement(
  signed: Signed,
  authority: PinnedAuthority,
  decoded?: DecodedSigned,
): StatementPayload {
  const json = openSigned(
    'liaison/v1/statement',
    signed,
    authority.signingPublicKey,
    { invalid: 'STATEMENT_INVALID', untrusted: 'STATEMENT_UNTRUSTED' },
    decoded,
  );
  const parsed = StatementPayload.safeParse(json);
  if (!parsed.success)
    throw new LiaisonError('STATEMENT_INVALID', 'statement does not match schema');
  if (parsed.data.issuer !== authority.keyId) throw new LiaisonError('STATEMENT_UNTRUSTED');
  return parsed.data;
}

/** The authority signs how far the log goes, valid from `issuedAt` until `expiresAt`. */
export async function signDirectoryHead(
  authority: AuthorityKeys,
  position: LogPosition,
  validity: { readonly issuedAt?: number; readonly expiresAt: number },
): Promise<Signed> {
  await ready;
  const payload: DirectoryHeadPayload = {
    v: 1,
    type: 'liaison.directory-head',
    issuer: authority.keyId,
    version: position.version,
    hash: position.hash,
    issuedAt: validity.issuedAt ?? Date.now(),
    expiresAt: validity.expiresAt,
  };
  if (!DirectoryHeadPayload.safeParse(payload).success) throw new TypeError('bad directory head');
  return signObject('liaison/v1/directory-head', payload, authority.signingSecretKey);
}

/** Verifies a directory head's signature against the pinned authority and returns its content. */
export function verifyDirectoryHead(
  signed: Signed,
  authority: PinnedAuthority,
): DirectoryHeadPayload {
  const json = openSigned('liaison/v1/directory-head', signed, authority.signingPublicKey, {
    invalid: 'DIRECTORY_HEAD_INVALID',
    untrusted: 'DIRECTORY_HEAD_INVALID',
  });
  const parsed = DirectoryHeadPayload.safeParse(json);
  if (!parsed.success || parsed.data.issuer !== authority.keyId) {
    throw new LiaisonError('DIRECTORY_HEAD_INVALID', 'directory head does not match its schema');
  }
  return parsed.data;
}
