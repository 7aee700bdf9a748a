import { randomUUID } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { Signed } from '../../protocol/v1/certificate.js';
import type { LiaisonClient } from '../client/client.js';
import { PENDING_IDS, RECENT_IDS } from '../envelope/sequence.js';
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
 * The state file of one key, shared by every command running with it (a chat beside one-shot
 * alerts): each save and each counter taken holds the file's lock (file-lock.ts) and merges what
 * the others saved, so no two commands give one counter twice and none winds another's back.
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

/** What the client knows, with the highest counter per stream any command with the key used. */
function stateText(client: LiaisonClient, onDisk: ClientState): string {
  const sequences = client.sequenceState;
  const sent = { ...onDisk.sequences?.sent };
  for (const [stream, last] of Object.entries(sequences.sent))
    sent[stream] = Math.max(last, sent[stream] ?? 0);
  return `${JSON.stringify({
    knownDevices: client.roster,
    knownHead: client.head,
    sequences: { ...sequences, sent },
    heldOffset: client.heldOffset,
    knownCheckpoint: client.checkpoint,
    prekeyState: client.prekeyState,
    forwardPermissions: client.forwardPermissions,
  })}\n`;
}

// Written whole, then renamed over the old file: a command starting meanwhile (a chat beside a
// one-shot inbox) reads the old state or the new, never half a file.
async function writeAtomically(path: string, text: string): Promise<void> {
  const temporary = `${path}.${randomUUID()}.tmp`;
  await writeFile(temporary, text, { mode: 0o600 });
  await rename(temporary, path);
}
