import { randomUUID } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { AttachmentRef, MAX_ATTACHMENTS } from '../../protocol/v1/blob.js';
import { OfficeId, Uuid } from '../../protocol/v1/primitives.js';

// Lines the operator typed that the gateway has not accepted yet, kept beside the key file
// (`<key>.outbox.json`) so that neither a lost connection nor a restart of the CLI drops them.
// Each line gets its envelope id when it is queued: sending it again after a crash is then
// answered as a duplicate by the gateway and deduplicated by the recipients, so it arrives once.

const Queued = z.strictObject({
  id: Uuid,
  office: OfficeId,
  text: z.string().min(1),
  queuedAt: z.int().min(0),
  /** Files already encrypted and uploaded (/attach): the line carries their keys. */
  attachments: z.array(AttachmentRef).min(1).max(MAX_ATTACHMENTS).optional(),
});
export type Queued = z.infer<typeof Queued>;

/** How many lines may wait: beyond it the operator is told to wait for the connection. */
export const OUTBOX_LIMIT = 1_000;

const pathFor = (keyFile: string) => `${keyFile}.outbox.json`;

/** A device's queue of unsent lines, in the order typed, saved on every change. */
export class Outbox {
  private constructor(
    private readonly path: string,
    private readonly queued: Queued[],
  ) {}

  /** The queue left by earlier runs (empty on first use or if the file is unreadable). */
  static async open(keyFile: string): Promise<Outbox> {
    const path = pathFor(keyFile);
    let items: Queued[] = [];
    try {
      const parsed = z.array(Queued).safeParse(JSON.parse(await readFile(path, 'utf8')));
      if (parsed.success) items = parsed.data;
    } catch {
      // no file yet
    }
    return new Outbox(path, items);
  }

  get items(): readonly Queued[] {
    return this.queued;
  }

  /** Queues a line (saved before this resolves); throws when the queue is full. */
  async add(
    office: string,
    text: string,
    attachments?: AttachmentRef[],
    now = Date.now(),
  ): Promise<Queued> {
    if (this.queued.length >= OUTBOX_LIMIT)
      throw new Error(`${OUTBOX_LIMIT} lines already wait to be sent: wait for the connection`);
    const item = {
      id: randomUUID(),
      office,
      text,
      queuedAt: now,
      ...(attachments && attachments.length > 0 ? { attachments } : {}),
    };
    this.queued.push(item);
    await this.save();
    return item;
  }

  /** Drops a line once the gateway accepted it (or refused it for good). */
  async remove(id: string): Promise<void> {
    const at = this.queued.findIndex((q) => q.id === id);
    if (at < 0) return;
    this.queued.splice(at, 1);
    await this.save();
  }

  private saving: Promise<void> = Promise.resolve();

  // Written beside and renamed, so a crash mid-write leaves the old queue, never half of one; one
  // write at a time (a line queued while another is removed), each of the queue as it is then.
  private save(): Promise<void> {
    const write = async () => {
      const temporary = `${this.path}.tmp`;
      await writeFile(temporary, `${JSON.stringify(this.queued)}\n`, { mode: 0o600 });
      await rename(temporary, this.path);
    };
    const saved = this.saving.then(write);
    this.saving = saved.catch(() => undefined);
    return saved;
  }
}
