import { readFile, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import type { LiaisonClient } from '../client/client.js';

// What a CLI device remembers between runs, beside its key file: the devices of linked offices
// its user has been told about (so one added while the CLI was off is still announced) and the
// newest directory head it accepted (so a gateway cannot roll the directory back).

const ClientState = z.object({
  knownDevices: z.record(z.string(), z.string()).optional(),
  knownHead: z
    .strictObject({ version: z.int().min(0), hash: z.string(), issuedAt: z.int().min(0) })
    .optional(),
});
type ClientState = z.infer<typeof ClientState>;

const pathFor = (keyFile: string) => `${keyFile}.state.json`;

/** What the device remembered last time (empty on first use). */
export async function loadClientState(keyFile: string): Promise<ClientState> {
  let text: string;
  try {
    text = await readFile(pathFor(keyFile), 'utf8');
  } catch {
    return {};
  }
  const parsed = ClientState.safeParse(JSON.parse(text));
  return parsed.success ? parsed.data : {};
}

/** Saves what the client knows whenever it may have changed. */
export function keepClientState(client: LiaisonClient, keyFile: string): void {
  const save = () =>
    writeFile(
      pathFor(keyFile),
      `${JSON.stringify({ knownDevices: client.roster, knownHead: client.head })}\n`,
    ).catch(() => undefined);
  for (const event of ['connected', 'deviceAdded', 'deviceRemoved', 'keyChanged'] as const) {
    client.on(event, () => void save());
  }
}
