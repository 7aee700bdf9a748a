import type { Signed } from '../../protocol/v1/certificate.js';
import { type StatementKind, StatementPayload } from '../../protocol/v1/statement.js';
import { LiaisonError } from '../errors.js';
import type { PinnedAuthority } from './certificate.js';
import type { AuthorityKeys } from './keys.js';
import { openSigned, signObject } from './signed.js';
import { ready } from './sodium.js';

type Content<K extends StatementKind> = Omit<
  Extract<StatementPayload, { kind: K }>,
  'v' | 'type' | 'id' | 'issuedAt' | 'issuer' | 'kind'
>;

/** Options a caller may fix (test vectors fix all three; otherwise random id and now). */
export interface StatementOptions {
  readonly id?: string;
  readonly issuedAt?: number;
}

/**
 * The authority signs a directory change.
 *
 * @example
 * await signStatement(authority, 'link.created', { offices: ['KG-AKZHOL', 'KZ-KORDAI'] })
 */
export async function signStatement<K extends StatementKind>(
  authority: AuthorityKeys,
  kind: K,
  content: Content<K>,
  options: StatementOptions = {},
): Promise<Signed> {
  await ready;
  const payload = {
    v: 1,
    type: 'liaison.statement',
    id: options.id ?? crypto.randomUUID(),
    issuedAt: options.issuedAt ?? Date.now(),
    issuer: authority.keyId,
    kind,
    ...content,
  };
  if (!StatementPayload.safeParse(payload).success) throw new TypeError(`bad ${kind} statement`);
  return signObject('liaison/v1/statement', payload, authority.signingSecretKey);
}

/** Verifies a statement's signature against the pinned authority and returns its content. */
export function verifyStatement(signed: Signed, authority: PinnedAuthority): StatementPayload {
  const json = openSigned('liaison/v1/statement', signed, authority.signingPublicKey, {
    invalid: 'STATEMENT_INVALID',
    untrusted: 'STATEMENT_UNTRUSTED',
  });
  const parsed = StatementPayload.safeParse(json);
  if (!parsed.success)
    throw new LiaisonError('STATEMENT_INVALID', 'statement does not match schema');
  if (parsed.data.issuer !== authority.keyId) throw new LiaisonError('STATEMENT_UNTRUSTED');
  return parsed.data;
}
