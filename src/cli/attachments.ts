import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { AttachmentRef } from '../../protocol/v1/blob.js';
import { ATTACHMENT_CHUNK_BYTES, MAX_ATTACHMENT_BYTES } from '../../protocol/v1/blob.js';
import { sniffType } from '../attachment/sniff.js';
import type { LiaisonClient, Message } from '../client/client.js';
import { UsageError } from './usage.js';

/** `12.3 MiB`, `48 KiB`, `512 B`. */
export function byteSize(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
  if (n >= 1024) return `${Math.round(n / 1024)} KiB`;
  return `${n} B`;
}

/**
 * Encrypts and uploads each file given with `--attach`, streamed from disk; `thumbnails[i]`, if
 * given, is the preview the sender made of file i (`--thumbnail`: one chunk at most, encrypted
 * under a key of its own; this CLI makes none itself, PROTOCOL.md §8.2).
 */
export async function attachFiles(
  client: LiaisonClient,
  files: readonly string[],
  thumbnails: readonly string[] = [],
): Promise<AttachmentRef[]> {
  if (thumbnails.length > files.length)
    throw new UsageError('--thumbnail: one for each --attach at most, in the same order');
  const refs: AttachmentRef[] = [];
  for (const [index, file] of files.entries()) {
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) throw new UsageError(`--attach ${file}: no such file`);
    if (info.size > MAX_ATTACHMENT_BYTES)
      throw new UsageError(`--attach ${file}: larger than ${byteSize(MAX_ATTACHMENT_BYTES)}`);
    const preview = thumbnails[index];
    const thumbnail = preview === undefined ? undefined : await thumbnailFrom(preview);
    refs.push(
      await client.attach(createReadStream(file), {
        name: basename(file),
        ...(thumbnail ? { thumbnail } : {}),
      }),
    );
  }
  return refs;
}

/** A preview file's bytes: small enough for one chunk, else a usage error. */
async function thumbnailFrom(file: string): Promise<Uint8Array> {
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) throw new UsageError(`--thumbnail ${file}: no such file`);
  if (info.size > ATTACHMENT_CHUNK_BYTES)
    throw new UsageError(
      `--thumbnail ${file}: larger than ${byteSize(ATTACHMENT_CHUNK_BYTES)} (a preview is one chunk; 160 px and 16 KiB are plenty)`,
    );
  return new Uint8Array(await readFile(file));
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
