import { hostname } from 'node:os';
import { z } from 'zod';
import { ConfigError, parseEnv, portVariable, sharedVariables } from '../runtime/env.js';

const DAY_MS = 24 * 60 * 60 * 1000;

const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

/** Every setting of a gateway, read from the environment once at start and then frozen. */
const GatewayEnv = z.object({
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: portVariable(8080),
  REDIS_URL: optionalString.pipe(
    z
      .string()
      .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
      .optional(),
  ),
  GATEWAY_AUDIENCE: z.string().min(1).max(200).default('liaison-gateway'),
  DIRECTORY_FILE: optionalString,
  RETENTION_DAYS: z.coerce.number().positive().max(3650).default(30),
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(600),
  ATTACHMENT_QUOTA_MB: z.coerce.number().positive().max(1_000_000).default(1024),
  TLS_CERT_FILE: optionalString,
  TLS_KEY_FILE: optionalString,
  ...sharedVariables,
  INSTANCE_ID: z.string().min(1).max(100).default(`${hostname()}-${process.pid}`),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(120_000).default(10_000),
  CONSOLE_HUB_URL: z.url().default('http://127.0.0.1:8090'),
});

export interface GatewayConfig {
  readonly host: string;
  readonly port: number;
  readonly redisUrl: string | undefined;
  readonly redisPrefix: string;
  readonly audience: string;
  readonly authorityFile: string;
  readonly directoryFile: string | undefined;
  readonly retentionMs: number;
  readonly rateLimitPerMinute: number;
  /** Bytes of attachment blobs one office may have stored at a time. */
  readonly attachmentQuotaBytes: number;
  readonly tls: { certFile: string; keyFile: string } | undefined;
  readonly logLevel: string;
  readonly instanceId: string;
  readonly shutdownGraceMs: number;
  /** The hub the web Console's analysts reach (allowed in its Content-Security-Policy). */
  readonly consoleHubUrl: string;
}

/**
 * Reads the gateway's settings from environment variables (README §Configuration).
 * @example const config = loadConfig(process.env);
 */
export function loadConfig(env: Record<string, string | undefined>): GatewayConfig {
  const e = parseEnv(GatewayEnv, env, 'gateway');
  if (Boolean(e.TLS_CERT_FILE) !== Boolean(e.TLS_KEY_FILE)) {
    throw new ConfigError(
      'invalid gateway configuration:\n  TLS_CERT_FILE and TLS_KEY_FILE go together',
    );
  }
  return Object.freeze({
    host: e.HOST,
    port: e.PORT,
    redisUrl: e.REDIS_URL,
    redisPrefix: e.REDIS_PREFIX,
    audience: e.GATEWAY_AUDIENCE,
    authorityFile: e.AUTHORITY_FILE,
    directoryFile: e.DIRECTORY_FILE,
    // Whole milliseconds: Redis takes only integers for expiry times.
    retentionMs: Math.round(e.RETENTION_DAYS * DAY_MS),
    rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE,
    attachmentQuotaBytes: Math.round(e.ATTACHMENT_QUOTA_MB * 1024 * 1024),
    tls:
      e.TLS_CERT_FILE && e.TLS_KEY_FILE
        ? { certFile: e.TLS_CERT_FILE, keyFile: e.TLS_KEY_FILE }
        : undefined,
    logLevel: e.LOG_LEVEL,
    instanceId: e.INSTANCE_ID,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    consoleHubUrl: e.CONSOLE_HUB_URL,
  });
}
