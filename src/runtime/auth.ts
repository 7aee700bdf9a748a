import { decodeJwt, decodeProtectedHeader } from 'jose';
import type { Namespace, Socket } from 'socket.io';
import type { WireEncoding } from '../../protocol/v1/compact.js';
import { HandshakeAuth } from '../../protocol/v1/events.js';
import { verifyClientToken } from '../crypto/token.js';
import type { Directory } from '../directory/directory.js';
import { tokenClaim } from '../engine/keyspace.js';
import type { ReplayGuard } from '../engine/replay-guard.js';
import { LiaisonError } from '../errors.js';
import { asLiaisonError, connectRefusal } from './wire.js';

/** Who is on the other end, as proven by a token. */
export interface Session {
  readonly deviceId: string;
  readonly officeId: string;
  /** The key the current token was signed with (a refresh may move to a rotated key). */
  keyId: string;
  /** When the current token expires (ms); the connection is closed then unless refreshed. */
  expiresAt: number;
}

/** Who may come through a server's door: office devices (the gateway) or analysts (the hub). */
export type Role = 'device' | 'analyst';

const REFUSALS: Record<Role, { missing: string; wrongRole: string }> = {
  device: {
    missing: 'send auth: { token } to connect',
    wrongRole: 'only office devices connect to the relay',
  },
  analyst: { missing: 'send an analyst token', wrongRole: 'only CARICC analysts read the record' },
};

export interface Door {
  readonly role: Role;
  /** This server's audience: a token for any other is refused. */
  readonly audience: string;
  readonly directory: Directory;
  /** Shared by every instance, so a token works once across all of them. */
  readonly replayGuard: ReplayGuard;
}

/**
 * Verifies a client token for this server and role, and claims its `jti` so it works once.
 * @example const session = await authenticate(token, { role: 'analyst', audience, directory, replayGuard });
 */
export async function authenticate(token: string | undefined, door: Door): Promise<Session> {
  const refusals = REFUSALS[door.role];
  if (!token) throw new LiaisonError('UNAUTHORIZED', refusals.missing);
  const { claims, certificate } = await verifyClientToken(token, door.directory, {
    audience: door.audience,
  });
  if (certificate.role !== door.role) throw new LiaisonError('FORBIDDEN', refusals.wrongRole);
  if (!(await door.replayGuard.claimOnce(tokenClaim(claims.jti), claims.exp * 1000))) {
    throw new LiaisonError('TOKEN_REPLAYED');
  }
  return {
    deviceId: certificate.deviceId,
    officeId: certificate.officeId,
    keyId: certificate.keyId,
    expiresAt: claims.exp * 1000,
  };
}

/** The token of a Socket.IO handshake (`auth: { token, encoding? }`), if it has one. */
export const handshakeToken = (auth: unknown): string | undefined => {
  const parsed = HandshakeAuth.safeParse(auth);
  return parsed.success ? parsed.data.token : undefined;
};

/** The envelope encoding a handshake asked for (`auth.encoding`); JSON unless it asked for compact. */
export const handshakeEncoding = (auth: unknown): WireEncoding => {
  const parsed = HandshakeAuth.safeParse(auth);
  return parsed.success ? (parsed.data.encoding ?? 'json') : 'json';
};

/**
 * Who a token says it is (`iss`, `kid`), unverified: for logging a refused attempt only, never
 * for a decision. Garbage gives `{}`.
 */
export function claimedIdentity(token: string | undefined): { device?: string; key?: string } {
  try {
    const device = token ? decodeJwt(token).iss : undefined;
    const key = token ? decodeProtectedHeader(token).kid : undefined;
    return {
      ...(typeof device === 'string' ? { device: device.slice(0, 100) } : {}),
      ...(typeof key === 'string' ? { key: key.slice(0, 100) } : {}),
    };
  } catch {
    return {};
  }
}

/** `Authorization: Bearer <token>` → the token. */
export const bearer = (header: string | undefined) => /^Bearer (\S+)$/.exec(header ?? '')?.[1];

/**
 * Socket.IO middleware: `identify` turns a handshake into a session (`socket.data.session`), or
 * the connection is refused with the wire error; `onRefused` sees each refusal and its cause.
 */
export function socketAuthentication(
  identify: (socket: Socket) => Promise<Session>,
  onRefused?: (refusal: LiaisonError, cause: unknown, socket: Socket) => void,
): Parameters<Namespace['use']>[0] {
  return (socket, next) => {
    identify(socket).then(
      (session) => {
        socket.data.session = session;
        next();
      },
      (error: unknown) => {
        const refusal = asLiaisonError(error);
        onRefused?.(refusal, error, socket);
        next(connectRefusal(refusal));
      },
    );
  };
}
