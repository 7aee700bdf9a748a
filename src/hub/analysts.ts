import { z } from 'zod';
import { verifyClientToken } from '../crypto/token.js';
import type { Directory } from '../directory/directory.js';
import type { Engine } from '../engine/engine.js';
import { LiaisonError } from '../errors.js';

/** Who is reading the record: an analyst device of CARICC. */
export interface AnalystSession {
  readonly deviceId: string;
  readonly expiresAt: number;
}

/**
 * Analysts prove themselves with the same kind of token as office devices, for the hub's audience.
 * An office device's token is refused: offices read their own traffic, not the record.
 */
export async function authenticateAnalyst(
  token: string | undefined,
  directory: Directory,
  engine: Engine,
  audience: string,
): Promise<AnalystSession> {
  if (!token) throw new LiaisonError('UNAUTHORIZED', 'send an analyst token');
  const { claims, certificate } = await verifyClientToken(token, directory, { audience });
  if (certificate.role !== 'analyst')
    throw new LiaisonError('FORBIDDEN', 'only CARICC analysts read the record');
  if (!(await engine.claimOnce(`jti:${claims.jti}`, claims.exp * 1000)))
    throw new LiaisonError('TOKEN_REPLAYED');
  return { deviceId: certificate.deviceId, expiresAt: claims.exp * 1000 };
}

/** `Authorization: Bearer <token>` → the token. */
export const bearer = (header: string | undefined) => /^Bearer (\S+)$/.exec(header ?? '')?.[1];

export const Paging = z.object({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

export const StatsQuery = z.strictObject({
  since: z.coerce.number().int().min(0).default(0),
  until: z.coerce.number().int().min(0).optional(),
  silentHours: z.coerce
    .number()
    .positive()
    .max(24 * 365)
    .default(24),
});
