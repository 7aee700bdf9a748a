import { hostname } from 'node:os';
import { z } from 'zod';
import { parseEnv, portVariable, sharedVariables } from '../runtime/env.js';

const MINUTE_MS = 60_000;

const HubEnv = z.object({
  HUB_HOST: z.string().min(1).default('127.0.0.1'),
  HUB_PORT: portVariable(8090),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'the hub needs Redis: redis://host:port'),
  HUB_KEY_FILE: z.string().min(1).default('keys/dev/devices/CARICC/hub.key'),
  // Key files of the hub's past keys, comma-separated: a backlog sealed before a rotation opens.
  HUB_PAST_KEY_FILES: z
    .string()
    .default('')
    .transform((list) => list.split(',').filter((path) => path.trim() !== '')),
  // The hub's prekey chain, sealed for the hub key (PROTOCOL.md §5.6); default beside the key file.
  HUB_PREKEY_STATE_FILE: z.string().min(1).optional(),
  // CARICC's archive public key: retired hub prekeys are sealed to it (its secret key is offline).
  HUB_ARCHIVE_PUBLIC_KEY_FILE: z.string().min(1).optional(),
  HUB_PREKEY_WINDOW_DAYS: z.coerce.number().positive().max(365).default(7),
  HUB_AUDIENCE: z.string().min(1).max(200).default('liaison-hub'),
  ESCALATE_FLASH_MINUTES: z.coerce
    .number()
    .positive()
    .max(24 * 60)
    .default(5),
  ESCALATE_IMMEDIATE_MINUTES: z.coerce
    .number()
    .positive()
    .max(24 * 60)
    .default(30),
  HUB_RETENTION_DAYS: z.coerce.number().positive().max(36500).default(365),
  HUB_CONSUMER: z.string().min(1).max(100).default(`${hostname()}-${process.pid}`),
  ...sharedVariables,
  HUB_CONSOLE_ORIGINS: z.string().default('http://127.0.0.1:8080'),
});

export interface HubConfig {
  readonly host: string;
  readonly port: number;
  readonly redisUrl: string;
  readonly redisPrefix: string;
  readonly authorityFile: string;
  readonly hubKeyFile: string;
  readonly hubPastKeyFiles: readonly string[];
  readonly prekeyStateFile: string;
  readonly archivePublicKeyFile: string | undefined;
  readonly prekeyWindowMs: number;
  readonly audience: string;
  readonly deadlines: { FLASH: number; IMMEDIATE: number };
  readonly consumer: string;
  readonly retentionMs: number;
  readonly logLevel: string;
  /** Web Console origins allowed to call the record API (comma-separated in the environment). */
  readonly consoleOrigins: string[];
}

/** Reads the hub's settings from environment variables (README §The CARICC hub). */
export function loadHubConfig(env: Record<string, string | undefined>): HubConfig {
  const e = parseEnv(HubEnv, env, 'hub');
  return Object.freeze({
    host: e.HUB_HOST,
    port: e.HUB_PORT,
    redisUrl: e.REDIS_URL,
    redisPrefix: e.REDIS_PREFIX,
    authorityFile: e.AUTHORITY_FILE,
    hubKeyFile: e.HUB_KEY_FILE,
    hubPastKeyFiles: e.HUB_PAST_KEY_FILES,
    prekeyStateFile: e.HUB_PREKEY_STATE_FILE ?? `${e.HUB_KEY_FILE}.prekeys`,
    archivePublicKeyFile: e.HUB_ARCHIVE_PUBLIC_KEY_FILE,
    prekeyWindowMs: Math.round(e.HUB_PREKEY_WINDOW_DAYS * 24 * 3_600_000),
    audience: e.HUB_AUDIENCE,
    deadlines: {
      FLASH: Math.round(e.ESCALATE_FLASH_MINUTES * MINUTE_MS),
      IMMEDIATE: Math.round(e.ESCALATE_IMMEDIATE_MINUTES * MINUTE_MS),
    },
    consumer: e.HUB_CONSUMER,
    retentionMs: Math.round(e.HUB_RETENTION_DAYS * 24 * 3_600_000),
    logLevel: e.LOG_LEVEL,
    consoleOrigins: e.HUB_CONSOLE_ORIGINS.split(',')
      .map((o) => o.trim())
      .filter(Boolean),
  });
}
