import { createReadStream } from 'node:fs';
import { mkdir, open, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { AttachmentRef } from '../../protocol/v1/blob.js';
import { MAX_ATTACHMENT_BYTES } from '../../protocol/v1/blob.js';
import { sniffType } from '../attachment/sniff.js';
import type { LiaisonClient, Message } from '../client/client.js';
import { UsageError } from './usage.js';

/** `12.3 MiB`, `48 KiB`, `512 B`. */
export function byteSize(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
  if (n >= 1024) return `${Math.round(n / 1024)} KiB`;
  return `${n} B`;
}

/** Encrypts and uploads each file given with `--attach`, streamed from disk. */
export async function attachFiles(
  client: LiaisonClient,
  files: readonly string[],
): Promise<AttachmentRef[]> {
  const refs: AttachmentRef[] = [];
  for (const file of files) {
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) throw new UsageError(`--attach ${file}: no such file`);
    if (info.size > MAX_ATTACHMENT_BYTES)
      throw new UsageError(`--attach ${file}: larger than ${byteSize(MAX_ATTACHMENT_BYTES)}`);
    refs.push(await client.attach(createReadStream(file), { name: basename(file) }));
  }
  return refs;
}

/** The attachments a chat line or alert carries (inside the ciphertext). */
export const attachmentsOf = (m: Message): AttachmentRef[] =>
  m.body.type === 'chat' || m.body.type === 'alert' ? (m.body.attachments ?? []) : [];

/** A file name safe to write: the sender's name without paths or odd characters. */
const safeName = (name: string) =>
  basename(name)
    .replace(/[^\p{L}\p{N}._-]+/gu, '_')
    .slice(0, 100);

/**
 * Fetches, verifies and decrypts one attachment into `dir`, chunk by chunk (never whole in
 * memory); a refused one (ATTACHMENT_INVALID) leaves no file. Returns the path and the sniffed type.
 */
export async function saveAttachment(
  client: LiaisonClient,
  messageId: string,
  index: number,
  ref: AttachmentRef,
  dir: string,
): Promise<{ path: string; type: string }> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${messageId}-${index}-${safeName(ref.name)}`);
  const file = await open(path, 'w', 0o600);
  let type: string | undefined;
  try {
    for await (const part of client.attachmentChunks(ref)) {
      type ??= sniffType(part.subarray(0, 16));
      await file.write(part);
    }
    await file.close();
  } catch (error) {
    await file.close().catch(() => undefined);
    await rm(path, { force: true });
    throw error;
  }
  return { path, type: type ?? 'application/octet-stream' };
}
