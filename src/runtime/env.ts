import { z } from 'zod';

/** A bad setting stops the start with one line per problem, naming the variable. */
export class ConfigError extends Error {}

/** A TCP port from the environment: digits only (an empty value is an error, not port 0). */
export const portVariable = (fallback: number) =>
  z
    .string()
    .regex(/^\d+$/, 'a port number')
    .default(String(fallback))
    .transform(Number)
    .pipe(z.number().int().min(0).max(65535));

/** Settings both servers read the same way. */
export const sharedVariables = {
  /** Prefix of every Redis key and channel: servers with the same prefix share a deployment. */
  REDIS_PREFIX: z.string().min(1).max(100).default('liaison:'),
  /** The authority's public key, which every server pins. */
  AUTHORITY_FILE: z.string().min(1).default('keys/dev/authority.pub.json'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
};

/** Parses environment variables with a schema, or throws a ConfigError listing every bad one. */
export function parseEnv<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined>,
  what: string,
): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
  throw new ConfigError(`invalid ${what} configuration:\n${lines.join('\n')}`);
}
