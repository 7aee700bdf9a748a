import { readFile, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import type { LiaisonClient } from '../client/client.js';

// The devices of linked offices a CLI user has been told about, kept beside the device's key
// file, so a device added to a linked office while the CLI was not running is still announced.

const KnownDevices = z.record(z.string(), z.string());

const pathFor = (keyFile: string) => `${keyFile}.known-devices.json`;

/** What the user was told last time, or undefined on first use. */
export async function loadKnownDevices(
  keyFile: string,
): Promise<Record<string, string> | undefined> {
  let text: string;
  try {
    text = await readFile(pathFor(keyFile), 'utf8');
  } catch {
    return undefined;
  }
  const parsed = KnownDevices.safeParse(JSON.parse(text));
  return parsed.success ? parsed.data : undefined;
}

/** Saves the client's roster whenever it changes, and once after its first directory. */
export function keepKnownDevices(client: LiaisonClient, keyFile: string): () => Promise<void> {
  const save = () => writeFile(pathFor(keyFile), `${JSON.stringify(client.roster)}\n`);
  for (const event of ['deviceAdded', 'deviceRemoved', 'keyChanged'] as const) {
    client.on(event, () => void save().catch(() => undefined));
  }
  return save;
}
