import { decodeJwt, decodeProtectedHeader, errors, importJWK, jwtVerify, SignJWT } from 'jose';
import { officeOfDevice } from '../../protocol/v1/primitives.js';
import {
  TOKEN_MAX_LIFETIME_SECONDS,
  type TokenClaims,
  TokenClaims as TokenClaimsSchema,
  TokenHeader,
} from '../../protocol/v1/token.js';
import { isLiaisonError, LiaisonError } from '../errors.js';
import type { Certificate } from './certificate.js';
import type { DeviceKeys } from './keys.js';
import { ready, toBase64Url } from './sodium.js';

export const TOKEN_TYPE = 'liaison-client+jwt';

export interface TokenOptions {
  /** The gateway the token is for: it refuses tokens for any other audience. */
  readonly audience: string;
  /** Seconds the token lives; at most TOKEN_MAX_LIFETIME_SECONDS. Default 60. */
  readonly lifetimeSeconds?: number;
  /** Seconds since the epoch; default now. */
  readonly issuedAt?: number;
  /** Unique token id; default a random UUID. Fixed only in test vectors. */
  readonly jti?: string;
}

/**
 * A device asserts itself to a gateway: a JWT signed with the device's Ed25519 key (EdDSA).
 *
 * @example
 * const token = await createClientToken(device, { audience: 'liaison-gateway' });
 * io(url, { auth: { token }, transports: ['websocket'] });
 */
export async function createClientToken(
  device: DeviceKeys,
  options: TokenOptions,
): Promise<string> {
  await ready;
  const lifetime = options.lifetimeSeconds ?? 60;
  if (lifetime <= 0 || lifetime > TOKEN_MAX_LIFETIME_SECONDS) {
    throw new TypeError(`token lifetime must be 1..${TOKEN_MAX_LIFETIME_SECONDS} s`);
  }
  const iat = options.issuedAt ?? Math.floor(Date.now() / 1000);
  const key = await signingKeyOf(device);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'EdDSA', typ: TOKEN_TYPE, kid: device.keyId })
    .setIssuer(device.deviceId)
    .setSubject(officeOfDevice(device.deviceId))
    .setAudience(options.audience)
    .setIssuedAt(iat)
    .setExpirationTime(iat + lifetime)
    .setJti(options.jti ?? crypto.randomUUID())
    .sign(key);
}

/** A device's Ed25519 signing key as jose takes it (libsodium's secret key starts with the seed). */
export function signingKeyOf(device: DeviceKeys) {
  return importJWK(
    {
      kty: 'OKP',
      crv: 'Ed25519',
      x: toBase64Url(device.signingPublicKey),
      d: toBase64Url(device.signingSecretKey.subarray(0, 32)),
    },
    'EdDSA',
  );
}

/**
 * Where a token's key is looked up: the certificate of a device key usable at a time, or the
 * reason it is not (a LiaisonError). The directory is one; crypto does not need to know it.
 */
export interface KeyLookup {
  usableKey(deviceId: string, keyId: string, at: number): Certificate;
}

export interface VerifiedToken {
  readonly claims: TokenClaims;
  readonly certificate: Certificate;
}

/**
 * Verifies a client token: EdDSA only, signed by a usable key of the device it names, for this
 * audience, unexpired, living at most 5 minutes. Replay protection (remembering `jti` until
 * `exp`) is the caller's, because it needs shared storage.
 */
export async function verifyClientToken(
  token: string,
  directory: KeyLookup,
  options: { audience: string; now?: number },
): Promise<VerifiedToken> {
  await ready;
  const nowMs = options.now ?? Date.now();
  let header: unknown;
  let unverified: unknown;
  try {
    header = decodeProtectedHeader(token);
    unverified = decodeJwt(token);
  } catch {
    throw new LiaisonError('TOKEN_INVALID', 'token is not a JWT');
  }
  const parsedHeader = TokenHeader.safeParse(header);
  const parsedClaims = TokenClaimsSchema.safeParse(unverified);
  if (!parsedHeader.success) throw new LiaisonError('TOKEN_INVALID', 'token header is not EdDSA');
  if (!parsedClaims.success) throw new LiaisonError('TOKEN_INVALID', 'token claims are incomplete');
  const { iss } = parsedClaims.data;

  let certificate: Certificate;
  try {
    certificate = directory.usableKey(iss, parsedHeader.data.kid, nowMs);
  } catch (error) {
    if (isLiaisonError(error, 'CERT_UNKNOWN')) throw new LiaisonError('DEVICE_UNKNOWN');
    if (isLiaisonError(error, 'CERT_REVOKED')) throw new LiaisonError('DEVICE_REVOKED');
    throw error;
  }
  const key = await importJWK(
    { kty: 'OKP', crv: 'Ed25519', x: toBase64Url(certificate.signingPublicKey) },
    'EdDSA',
  );
  try {
    await jwtVerify(token, key, {
      algorithms: ['EdDSA'],
      typ: TOKEN_TYPE,
      audience: options.audience,
      issuer: certificate.deviceId,
      subject: certificate.officeId,
      currentDate: new Date(nowMs),
      requiredClaims: ['iss', 'sub', 'aud', 'iat', 'exp', 'jti'],
    });
  } catch (error) {
    throw mapJoseError(error);
  }
  const claims = parsedClaims.data;
  // Both bounds: a token may not claim a long life, nor be dated ahead to stay valid longer.
  const lifetimeMs = TOKEN_MAX_LIFETIME_SECONDS * 1000;
  if (
    claims.exp - claims.iat > TOKEN_MAX_LIFETIME_SECONDS ||
    claims.exp * 1000 > nowMs + lifetimeMs
  ) {
    throw new LiaisonError('TOKEN_LIFETIME');
  }
  if (claims.iat * 1000 > nowMs + 60_000)
    throw new LiaisonError('TOKEN_INVALID', 'issued in the future');
  return { claims, certificate };
}

function mapJoseError(error: unknown): LiaisonError {
  if (error instanceof errors.JWTExpired) return new LiaisonError('TOKEN_EXPIRED');
  if (error instanceof errors.JWTClaimValidationFailed && error.claim === 'aud') {
    return new LiaisonError('TOKEN_AUDIENCE');
  }
  return new LiaisonError('TOKEN_INVALID');
}
