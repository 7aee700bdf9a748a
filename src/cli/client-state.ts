import { randomUUID } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { Signed } from '../../protocol/v1/certificate.js';
import type { LiaisonClient } from '../client/client.js';
import { mergePermissions } from '../client/forwarding.js';
import type { DeviceKeys } from '../crypto/keys.js';
import { PrekeyStore } from '../crypto/prekey-store.js';
import { furtherCheckpoint } from '../directory/checkpoint.js';
import { mergeSequenceStates, PENDING_IDS, RECENT_IDS } from '../envelope/sequence.js';
import { withFileLock } from './file-lock.js';

// What a CLI device remembers between runs, beside its key file: the devices of linked offices
// its user has been told about (so one added while the CLI was off is still announced) and the
// newest directory head it accepted (so a gateway cannot roll the directory back), the envelope
// counters it used and saw (so a replay is refused and a gap reported after a restart), and the
// first inbox offset it keeps on the gateway because it lacks the key, and its prekey chains.

const ClientState = z.object({
  knownDevices: z.record(z.string(), z.string()).optional(),
  knownHead: z
    .strictObject({ version: z.int().min(0), hash: z.string(), issuedAt: z.int().min(0) })
    .optional(),
  sequences: z
    .strictObject({
      sent: z.record(z.string(), z.int().min(0)),
      received: z.record(
        z.string(),
        z.strictObject({
          high: z.int().min(0),
          newest: z.int().min(0),
          since: z.int().min(0),
          missing: z.array(z.tuple([z.int().min(0), z.int().min(0)])),
        }),
      ),
      recent: z
        .array(z.tuple([z.string(), z.int()]))
        .max(RECENT_IDS)
        .optional(),
      pending: z
        .array(z.tuple([z.string(), z.int().min(1)]))
        .max(PENDING_IDS)
        .optional(),
    })
    .optional(),
  heldOffset: z.int().min(1).optional(),
  knownCheckpoint: Signed.optional(),
  /** The prekey chains, sealed for this device (PROTOCOL.md §5.6): useless without its key. */
  prekeyState: z.string().max(8192).optional(),
  /** Forwarding permissions received from provider offices (envelope id → who, to whom). */
  forwardPermissions: z
    .record(z.string(), z.strictObject({ from: z.string(), to: z.array(z.string()) }))
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
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return {};
  }
  const parsed = ClientState.safeParse(json);
  return parsed.success ? parsed.data : {};
}

/**
 * What the device remembered, with its prekey chain in it. A key's first commands started at
 * once would each start a chain of their own and publish it, and whichever saved last would lose
 * the other's private prekeys: what was sealed to them could never be opened (OWN_KEY_MISSING).
 * So the chain is started here, under the file's lock, before any client runs: every command
 * derives the same prekeys from it (PROTOCOL.md §5.6).
 */
export async function loadClientStateWithPrekeys(
  keyFile: string,
  keys: DeviceKeys,
): Promise<ClientState> {
  const path = pathFor(keyFile);
  return withFileLock(path, async () => {
    const onDisk = await loadClientState(keyFile);
    if (onDisk.prekeyState !== undefined) return onDisk;
    const prekeys = PrekeyStore.open(keys, undefined);
    prekeys.schedule(Date.now());
    const state = { ...onDisk, prekeyState: prekeys.seal() };
    prekeys.wipe();
    await writeAtomically(path, `${JSON.stringify(state)}\n`);
    return state;
  });
}

/**
 * The state file of one key, shared by every command running with it (a chat beside one-shot
 * alerts): each save and each counter taken holds the file's lock (file-lock.ts) and merges what
 * the others saved (stateText), so no two commands give one counter twice and none forgets what
 * another saw: an envelope any of them accepted is refused as a replay by the next.
 */
export class ClientStateFile {
  private client: LiaisonClient | undefined;
  // One lock at a time per process: a save asked for while a counter is taken runs after it.
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly keyFile: string) {}

  /** Saves what `client` knows whenever it may have changed, from now on. */
  keep(client: LiaisonClient): void {
    this.client = client;
    const events = [
      'connected',
      'deviceAdded',
      'deviceRemoved',
      'keyChanged',
      'stateChanged',
      'checkpoint',
    ] as const;
    for (const event of events) {
      client.on(event, () => void this.save().catch(() => undefined));
    }
    // At once: a second command started meanwhile derives the same prekeys from it.
    void this.save().catch(() => undefined);
  }

  /** For `reserveCounter`: takes a counter past what every command with this key used. */
  readonly reserve = (take: (usedElsewhere: Record<string, number>) => number): Promise<number> =>
    this.locked(async (onDisk) => take(onDisk.sequences?.sent ?? {}));

  private save(): Promise<void> {
    return this.locked(async () => undefined);
  }

  private locked<T>(work: (onDisk: ClientState) => Promise<T>): Promise<T> {
    const path = pathFor(this.keyFile);
    const run = this.chain.then(() =>
      withFileLock(path, async () => {
        const onDisk = await loadClientState(this.keyFile);
        const result = await work(onDisk);
        if (this.client) await writeAtomically(path, stateText(this.client, onDisk));
        return result;
      }),
    );
    this.chain = run.catch(() => undefined);
    return run;
  }
}

/**
 * What the client knows merged with what the file holds (other commands with this key saved it
 * since this one loaded it), each part by its meaning: an older view never winds back a newer.
 * - sequences: mergeSequenceStates (an envelope either saw counts as seen; sent counters: max).
 * - knownHead: the higher version (a lower one would let a gateway roll the directory back).
 * - heldOffset: the lower (nothing from the first envelope either could not open is acknowledged).
 * - forwardPermissions: every permission either received.
 * - knownCheckpoint: the one further along the record (an older one would let the hub's record
 *   be held to less than this office saw).
 * - knownDevices, prekeyState: this client's. The roster is its view of the signed directory: an
 *   older one only makes the next command tell again what was told, never hide a change. The
 *   prekey state is sealed for the device; each command derives the same chain from it (started
 *   under the lock by loadClientStateWithPrekeys). A key rotated while two commands run still
 *   starts a chain in each: the last saver's is kept (SECURITY.md).
 */
function stateText(client: LiaisonClient, onDisk: ClientState): string {
  const head = client.head;
  const theirHead = onDisk.knownHead;
  const held = [client.heldOffset, onDisk.heldOffset].filter((o) => o !== undefined);
  const state = {
    knownDevices: client.roster,
    knownHead:
      head && theirHead && theirHead.version > head.version ? theirHead : (head ?? theirHead),
    sequences: onDisk.sequences
      ? mergeSequenceStates(onDisk.sequences, client.sequenceState)
      : client.sequenceState,
    heldOffset: held.length > 0 ? Math.min(...held) : undefined,
    knownCheckpoint: furtherCheckpoint(client.checkpoint, onDisk.knownCheckpoint),
    prekeyState: client.prekeyState,
    forwardPermissions: mergePermissions(
      onDisk.forwardPermissions ?? {},
      client.forwardPermissions,
    ),
  };
  return `${JSON.stringify(state)}\n`;
}

// Written whole, then renamed over the old file: a command starting meanwhile (a chat beside a
// one-shot inbox) reads the old state or the new, never half a file.
async function writeAtomically(path: string, text: string): Promise<void> {
  const temporary = `${path}.${randomUUID()}.tmp`;
  await writeFile(temporary, text, { mode: 0o600 });
  await rename(temporary, path);
}
