import { DirectoryResponse } from '../../protocol/v1/http.js';
import type { Directory } from '../directory/directory.js';
import { acceptHead, type KnownHead } from '../directory/head.js';
import { issuesOf, LiaisonError } from '../errors.js';

/**
 * Fetches the directory statements after `directory.version` from `url` (`GET /v1/directory`)
 * and applies them: each must verify against the directory's pinned authority, so whoever
 * serves them cannot add or swap a key. Then checks the directory head served with them against
 * the newest one accepted before (`known`; see acceptHead): returns the head to keep.
 *
 * @example
 * const directory = new Directory(await pinAuthority(published));
 * known = await syncDirectory(directory, 'https://liaison.example', known);
 */
export async function syncDirectory(
  directory: Directory,
  url: string,
  known?: KnownHead,
): Promise<KnownHead | undefined> {
  const response = await fetch(`${url}/v1/directory?after=${directory.version}`).catch(
    (error: Error & { cause?: { code?: string } }) => {
      const why = error.cause?.code ?? error.message;
      throw new LiaisonError('UNAVAILABLE', `cannot reach the gateway at ${url} (${why})`);
    },
  );
  if (!response.ok)
    throw new LiaisonError('UNAVAILABLE', `the directory answered HTTP ${response.status}`);
  const body = DirectoryResponse.safeParse(await response.json());
  if (!body.success)
    throw new LiaisonError(
      'VALIDATION_FAILED',
      'the directory response does not match its schema',
      issuesOf(body.error),
    );
  if (body.data.authority !== directory.authority.keyId) {
    throw new LiaisonError('CERT_UNTRUSTED', 'the gateway serves another authority’s directory');
  }
  for (const { statement } of body.data.statements) directory.apply(statement);
  return acceptHead(directory, body.data.head, known, Date.now());
}
