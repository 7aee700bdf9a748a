import { readFileSync } from 'node:fs';
import { ZodError } from 'zod';
import type { Handling } from '../../protocol/v1/payload.js';
import { LiaisonClient } from '../client/client.js';
import { readDeviceKey, readPinnedAuthority } from '../keystore/keyfile.js';
import { ClientStateFile, loadClientStateWithPrekeys } from './client-state.js';
import { PASSPHRASE_OPTIONS, type PassphraseFlags, passphraseSource } from './key-protection.js';
import { UsageError } from './usage.js';

/** Options every client command takes, with the development defaults. */
export const CLIENT_OPTIONS = {
  key: { type: 'string' },
  gateway: { type: 'string', default: 'http://127.0.0.1:8080' },
  audience: { type: 'string', default: 'liaison-gateway' },
  authority: { type: 'string', default: 'keys/dev/authority.pub.json' },
  json: { type: 'boolean', default: false },
  compact: { type: 'boolean', default: false },
  ...PASSPHRASE_OPTIONS,
} as const;

export interface ClientFlags extends PassphraseFlags {
  key?: string | undefined;
  gateway: string;
  audience: string;
  authority: string;
  /** Envelopes in the compact encoding (PROTOCOL.md §9.5), for a weak link. */
  compact?: boolean | undefined;
  /** The office's handling code for chat lines and alerts that name none (handling.ts). */
  defaultHandling?: Handling | undefined;
}

/**
 * Builds a client from a device key file and the pinned authority key, remembering across runs
 * which devices of linked offices the user has been told about and the newest directory head.
 */
export async function clientFrom(flags: ClientFlags, acknowledge = true): Promise<LiaisonClient> {
  if (!flags.key)
    throw new UsageError('missing --key DEVICE.key (e.g. keys/dev/devices/KZ-KORDAI/desk-1.key)');
  const keyFile = flags.key;
  const { keys } = await readDeviceKey(keyFile, passphraseSource({ ...flags })).catch(
    (error: unknown) => {
      throw fileProblem('--key', keyFile, error, 'a device key file');
    },
  );
  const authority = await readPinnedAuthority(flags.authority).catch((error: unknown) => {
    throw fileProblem('--authority', flags.authority, error, "the authority's public key file");
  });
  const state = await loadClientStateWithPrekeys(flags.key, keys);
  const stateFile = new ClientStateFile(flags.key);
  const { knownDevices, knownHead, sequences, heldOffset, knownCheckpoint, prekeyState } = state;
  const client = new LiaisonClient({
    url: flags.gateway,
    audience: flags.audience,
    keys,
    authority,
    acknowledge,
    // Every desk of an office sees what the others sent.
    copyToOwnOffice: true,
    ...(flags.compact ? { encoding: 'compact' as const } : {}),
    ...(knownDevices ? { knownDevices } : {}),
    ...(knownHead ? { knownHead } : {}),
    ...(sequences ? { sequences } : {}),
    // Other commands may be sending with this key at the same time.
    reserveCounter: stateFile.reserve,
    ...(heldOffset !== undefined ? { heldOffset } : {}),
    ...(knownCheckpoint ? { knownCheckpoint } : {}),
    ...(prekeyState ? { prekeyState } : {}),
    ...(state.forwardPermissions ? { forwardPermissions: state.forwardPermissions } : {}),
    ...(flags.defaultHandling ? { defaultHandling: flags.defaultHandling } : {}),
  });
  stateFile.keep(client);
  return client;
}

/** A key file that cannot be used, said with the flag, the file and what it should be. */
function fileProblem(flag: string, path: string, error: unknown, wanted: string): Error {
  const code = (error as { code?: string }).code;
  if (code === 'ENOENT')
    return new UsageError(`${flag} ${path}: no such file (expected ${wanted})`);
  if (!(error instanceof ZodError || error instanceof SyntaxError)) return error as Error;
  return new UsageError(`${flag} ${path}: not ${wanted}${publicHint(path, flag)}`);
}

// A public file (certificate, authority key) passed where the private key file belongs.
function publicHint(path: string, flag: string): string {
  if (flag !== '--key') return '';
  try {
    const text = readFileSync(path, 'utf8');
    if (!text.includes('signingSeed') && text.trimStart().startsWith('{'))
      return ': it holds no private key (a public key or certificate?); pass the device’s private .key file';
  } catch {
    // unreadable: the plain message says enough
  }
  return '';
}

/** How the CLI tells its user that a linked office's devices changed, or envelopes are missing. */
export function announceDeviceChanges(
  client: LiaisonClient,
  out: (human: string, json: object) => void,
): void {
  client.on('keyChanged', (k) =>
    out(
      `WARNING: ${k.deviceId} has a new key; compare its safety number out of band: ${k.fingerprint}`,
      { event: 'keyChanged', ...k },
    ),
  );
  client.on('deviceAdded', (d) =>
    out(
      `NOTICE: ${d.officeId} has a new device, ${d.deviceId}: it reads what you send there from now on; compare its safety number out of band: ${d.fingerprint}`,
      { event: 'deviceAdded', ...d },
    ),
  );
  client.on('missing', (m) =>
    out(
      `WARNING: envelopes ${m.counters[0]}–${m.counters[1]} from ${m.sender} have not arrived (ENVELOPES_MISSING): lost on the way, or late`,
      { event: 'missing', code: 'ENVELOPES_MISSING', ...m },
    ),
  );
  client.on('deviceRemoved', (d) =>
    out(`NOTICE: ${d.deviceId} of ${d.officeId} no longer receives`, {
      event: 'deviceRemoved',
      ...d,
    }),
  );
}
