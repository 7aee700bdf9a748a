import { z } from 'zod';
import { Signed } from './certificate.js';
import { KeyId, WireError } from './primitives.js';

/** `GET /v1/directory?after=N` — statements after version N, in the order they were accepted. */
export const DirectoryQuery = z.strictObject({
  after: z.coerce.number().int().min(0).default(0),
});

export const DirectoryResponse = z.strictObject({
  authority: KeyId,
  version: z.int().min(0),
  statements: z.array(z.strictObject({ version: z.int().min(1), statement: Signed })),
  head: Signed.optional().describe(
    'the newest directory head the authority published (PROTOCOL.md §5.2); check it yourself',
  ),
});

/** `POST /v1/directory/statements` — statements signed by the authority. */
export const SubmitStatementsRequest = z.strictObject({
  statements: z.array(Signed).min(1).max(100),
});
export const SubmitStatementsResponse = z.strictObject({ version: z.int().min(0) });

/** `POST /v1/directory/head` — a directory head signed by the authority. */
export const SubmitHeadRequest = z.strictObject({ head: Signed });
export const SubmitHeadResponse = z.strictObject({ version: z.int().min(0) });

/** The body of every HTTP error response. */
export const ErrorResponse = z.strictObject({ error: WireError });
