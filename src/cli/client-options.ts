import { LiaisonClient } from '../client/client.js';
import { readDeviceKey, readPinnedAuthority } from '../keystore/keyfile.js';
import { UsageError } from './usage.js';

/** Options every client command takes, with the development defaults. */
export const CLIENT_OPTIONS = {
  key: { type: 'string' },
  gateway: { type: 'string', default: 'http://127.0.0.1:8080' },
  audience: { type: 'string', default: 'liaison-gateway' },
  authority: { type: 'string', default: 'keys/dev/authority.pub.json' },
  json: { type: 'boolean', default: false },
} as const;

export interface ClientFlags {
  key?: string | undefined;
  gateway: string;
  audience: string;
  authority: string;
}

/** Builds a client from a device key file and the pinned authority key. */
export async function clientFrom(flags: ClientFlags, acknowledge = true): Promise<LiaisonClient> {
  if (!flags.key)
    throw new UsageError('missing --key DEVICE.key (e.g. keys/dev/devices/KZ-KORDAI/desk-1.key)');
  const { keys } = await readDeviceKey(flags.key);
  const authority = await readPinnedAuthority(flags.authority);
  return new LiaisonClient({
    url: flags.gateway,
    audience: flags.audience,
    keys,
    authority,
    acknowledge,
  });
}
