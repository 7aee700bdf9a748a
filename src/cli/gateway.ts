import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { signDirectoryHead } from '../crypto/statement.js';
import { loadConfig } from '../gateway/config.js';
import { runGateway } from '../gateway/main.js';
import { loadHubConfig } from '../hub/config.js';
import { runHub } from '../hub/main.js';
import { generateDevKeySet, keySetPaths } from '../keystore/devset.js';
import { loadDirectory, setDirectoryHead } from '../keystore/directory-file.js';
import { exists } from '../keystore/files.js';
import { readAuthorityKey } from '../keystore/keyfile.js';
import { ConfigError } from '../runtime/env.js';

const LOCAL_REDIS = 'redis://127.0.0.1:6379';

/** Whether a Redis answers at `url` within a second. */
async function redisAnswers(url: string): Promise<boolean> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

/** How long the head a development gateway signs at start stays valid. */
const DEV_HEAD_VALIDITY_MS = 7 * 24 * 3_600_000;

/** `liaison gateway [--dev]`: runs until SIGTERM/SIGINT; `note` tells the person (stderr). */
export async function gatewayCommand(argv: string[], note: (line: string) => void) {
  const { values } = parseArgs({ args: argv, options: { dev: { type: 'boolean' } } });
  const env = { ...process.env };
  if (values.dev) {
    const paths = keySetPaths('keys/dev');
    if (!(await exists(paths.authorityKey))) {
      const devices = await generateDevKeySet('keys/dev');
      note(
        `created the development key set in keys/dev (${devices.length} devices; plaintext keys: development only)`,
      );
    }
    env.AUTHORITY_FILE ??= paths.authorityPublic;
    env.DIRECTORY_FILE ??= paths.directory;
    // Development only: the authority key sits beside the gateway, so it signs a fresh head at
    // every start. In production the authority signs heads offline (keys/README.md).
    const authority = await readAuthorityKey(paths.authorityKey);
    const directory = await loadDirectory(paths.directory).catch((error: unknown) => {
      throw new ConfigError(
        `keys/dev does not load (${(error as Error).message}); it may be from an older version: delete keys/dev and start again`,
      );
    });
    const now = Date.now();
    const head = await signDirectoryHead(authority, directory.head, {
      issuedAt: now,
      expiresAt: now + DEV_HEAD_VALIDITY_MS,
    });
    await setDirectoryHead(paths.directory, head);
    // The quick start uses a Redis on this machine when one answers, so the hub can run too.
    if (env.REDIS_URL === undefined && (await redisAnswers(LOCAL_REDIS))) {
      env.REDIS_URL = LOCAL_REDIS;
      note(`using the Redis at ${LOCAL_REDIS} (set REDIS_URL to choose another)`);
    }
    // Keys of one development set apart from another's: a new keys/dev starts from a clean slate.
    env.REDIS_PREFIX ??= `liaison-dev:${authority.keyId}:`;
  }
  if (!(await exists(env.AUTHORITY_FILE ?? 'keys/dev/authority.pub.json'))) {
    throw new ConfigError(
      `no authority key at ${env.AUTHORITY_FILE ?? 'keys/dev/authority.pub.json'}: set AUTHORITY_FILE or run with --dev`,
    );
  }
  await runGateway(loadConfig(env));
  if (values.dev && env.REDIS_URL) {
    // The quick start on Redis runs the CARICC hub beside the gateway, in the same process.
    env.HUB_KEY_FILE ??= keySetPaths('keys/dev').deviceKey('CARICC/hub');
    const { hub } = await runHub(loadHubConfig(env));
    note(`CARICC hub for analysts on ${hub.url}`);
  } else if (values.dev) {
    note('the CARICC hub needs Redis: set REDIS_URL to run it beside the gateway');
  }
  // Keep running: the process ends on a signal.
  await new Promise(() => {});
}
