import { HandshakeAuth } from '../../protocol/v1/events.js';
import { verifyClientToken } from '../crypto/token.js';
import type { Directory } from '../directory/directory.js';
import type { Engine } from '../engine/engine.js';
import { LiaisonError } from '../errors.js';

/** Who is on the other end of a socket, as proven by its token. */
export interface Session {
  readonly deviceId: string;
  readonly officeId: string;
  /** The key the current token was signed with (a refresh may move to a rotated key). */
  keyId: string;
  /** When the current token expires (ms); the socket is closed then unless refreshed. */
  expiresAt: number;
}

/**
 * Verifies a client token for this gateway and claims its `jti` in the shared engine, so a token
 * works once across every instance. Office devices only: the hub and analysts have their own door.
 */
export async function authenticate(
  token: string,
  directory: Directory,
  engine: Engine,
  audience: string,
): Promise<Session> {
  const { claims, certificate } = await verifyClientToken(token, directory, { audience });
  if (certificate.role !== 'device') {
    throw new LiaisonError('FORBIDDEN', 'only office devices connect to the relay');
  }
  if (!(await engine.claimOnce(`jti:${claims.jti}`, claims.exp * 1000))) {
    throw new LiaisonError('TOKEN_REPLAYED');
  }
  return {
    deviceId: certificate.deviceId,
    officeId: certificate.officeId,
    keyId: certificate.keyId,
    expiresAt: claims.exp * 1000,
  };
}

/** The token of a Socket.IO handshake (`auth: { token }`). */
export function handshakeToken(auth: unknown): string {
  const parsed = HandshakeAuth.safeParse(auth);
  if (!parsed.success) throw new LiaisonError('UNAUTHORIZED', 'send auth: { token } to connect');
  return parsed.data.token;
}
