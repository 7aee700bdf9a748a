import { KDF_LIMITS, type KdfLevel } from '../../protocol/v1/key-file.js';
import type { KeyProtection } from '../keystore/keyfile.js';
import type { PassphraseSource } from '../keystore/passphrase.js';
import { UsageError } from './usage.js';

/** The flags that say where a key file's passphrase comes from (parseArgs options). */
export const PASSPHRASE_OPTIONS = {
  'passphrase-env': { type: 'string' },
  'passphrase-fd': { type: 'string' },
} as const;

/** The flags of a command that writes a new private key file. */
export const NEW_KEY_OPTIONS = {
  ...PASSPHRASE_OPTIONS,
  'insecure-plaintext': { type: 'boolean' },
  kdf: { type: 'string' },
} as const;

export interface PassphraseFlags {
  'passphrase-env'?: string | undefined;
  'passphrase-fd'?: string | undefined;
}

/**
 * Where to get a passphrase: the named environment variable, the file descriptor, else the
 * terminal when there is one. `prefix` picks a second pair of flags (`--authority-passphrase-…`).
 */
export function passphraseSource(
  values: Record<string, unknown>,
  prefix = '',
): PassphraseSource | undefined {
  const env = values[`${prefix}passphrase-env`];
  const fd = values[`${prefix}passphrase-fd`];
  if (typeof env === 'string' && typeof fd === 'string') {
    throw new UsageError(`give --${prefix}passphrase-env or --${prefix}passphrase-fd, not both`);
  }
  if (typeof env === 'string') {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(env)) {
      throw new UsageError(`--${prefix}passphrase-env takes the NAME of an environment variable`);
    }
    return { env };
  }
  if (typeof fd === 'string') {
    const n = Number(fd);
    if (!Number.isInteger(n) || n < 0 || n > 1024) {
      throw new UsageError(`--${prefix}passphrase-fd takes a file descriptor number`);
    }
    return { fd: n };
  }
  return process.stdin.isTTY ? { terminal: true } : undefined;
}

/** How a command's new key file is kept, from its flags: sealed unless --insecure-plaintext. */
export function protectionFrom(values: Record<string, unknown>): KeyProtection {
  const level = (values.kdf ?? 'moderate') as string;
  if (!(level in KDF_LIMITS)) throw new UsageError('--kdf is interactive, moderate or sensitive');
  if (values['insecure-plaintext'] === true) {
    if (values['passphrase-env'] || values['passphrase-fd']) {
      throw new UsageError('--insecure-plaintext takes no passphrase');
    }
    return 'insecure-plaintext';
  }
  const passphrase = passphraseSource(values);
  if (!passphrase) {
    throw new UsageError(
      'a new key file is sealed under a passphrase: run at a terminal, or give --passphrase-env NAME or --passphrase-fd N (--insecure-plaintext for development only)',
    );
  }
  return { passphrase, level: level as KdfLevel };
}

export const KEY_PROTECTION_USAGE = `Private key files are sealed under a passphrase (Argon2id + XChaCha20-Poly1305, PROTOCOL.md §5.4),
asked at the terminal (no echo), or read from --passphrase-env NAME or --passphrase-fd N (services).
--kdf interactive|moderate|sensitive sets the Argon2id cost of a new file (default moderate);
--insecure-plaintext writes plaintext seeds: development only.`;
