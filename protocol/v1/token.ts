import { z } from 'zod';
import { DeviceId, KeyId, OfficeId, Uuid } from './primitives.js';

/** Longest lifetime a client token may have, in seconds. */
export const TOKEN_MAX_LIFETIME_SECONDS = 300;

/** The JOSE header of a client token. Only EdDSA (Ed25519) is accepted. */
export const TokenHeader = z.object({
  alg: z.literal('EdDSA'),
  typ: z.literal('liaison-client+jwt'),
  kid: KeyId,
});

/** The claims of a client token: the device asserts itself to one gateway, once. */
export const TokenClaims = z.object({
  iss: DeviceId,
  sub: OfficeId,
  aud: z.string().min(1).max(200),
  iat: z.int().min(0),
  exp: z.int().min(0),
  jti: Uuid,
});
export type TokenClaims = z.infer<typeof TokenClaims>;
