import { type AttachmentRef, type LiaisonClient, LiaisonError } from './sdk.js';
import { makeThumbnail, previewable } from './thumbnail.js';

// Files in the Console: encrypted and uploaded from this browser (a photo with a preview made
// here), fetched, checked and decrypted for saving or showing.

/** A file's bytes as the SDK reads them: a chunk at a time from its stream. */
async function* chunksOf(file: Blob): AsyncGenerator<Uint8Array> {
  const reader = file.stream().getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/**
 * Encrypts and uploads each file (read in chunks, never whole; the upload resumes after a cut
 * link), a photo with its preview; needs a connection, and rejects if a file is refused.
 */
export async function uploadFiles(
  client: LiaisonClient | undefined,
  files: readonly File[],
): Promise<AttachmentRef[]> {
  if (!client?.isConnected) throw new LiaisonError('UNAVAILABLE', 'not connected');
  const refs: AttachmentRef[] = [];
  for (const file of files) {
    const thumbnail = await makeThumbnail(file);
    refs.push(
      await client.attach(chunksOf(file), {
        name: file.name || 'file',
        ...(file.type ? { declaredType: file.type } : {}),
        ...(thumbnail ? { thumbnail } : {}),
      }),
    );
  }
  return refs;
}

/**
 * Fetches, verifies and decrypts an attachment, as a file the browser can save: its type is the
 * one sniffed from the content (never the sender's word), so the browser never renders it as
 * something it is not.
 */
export async function openFile(
  client: LiaisonClient | undefined,
  ref: AttachmentRef,
): Promise<{ file: Blob; type: string; declared?: string }> {
  if (!client) throw new LiaisonError('UNAVAILABLE', 'not connected');
  const opened = await client.openAttachment(ref);
  const file = new Blob([opened.bytes as Uint8Array<ArrayBuffer>], { type: opened.type });
  return opened.typeMismatch && ref.declaredType
    ? { file, type: opened.type, declared: ref.declaredType }
    : { file, type: opened.type };
}

/** Previews kept as object URLs while the page lives (the oldest let go past this many). */
const PREVIEWS_KEPT = 200;

/** Decrypted previews of attachments, by blob id: each fetched and checked once. */
export class Previews {
  private readonly urls = new Map<string, Promise<string | undefined>>();

  /** An object URL of the sender's preview, or undefined if there is none or it is no image. */
  url(client: LiaisonClient | undefined, ref: AttachmentRef): Promise<string | undefined> {
    const thumbnail = ref.thumbnail;
    if (!client || !thumbnail) return Promise.resolve(undefined);
    const kept = this.urls.get(thumbnail.blobId);
    if (kept) return kept;
    const url = client.openThumbnail(ref).then(
      (opened) =>
        opened && previewable(opened.type)
          ? URL.createObjectURL(
              new Blob([opened.bytes as Uint8Array<ArrayBuffer>], { type: opened.type }),
            )
          : undefined,
      // Not there (expired) or refused: no preview, the file itself says why when saved.
      () => {
        this.urls.delete(thumbnail.blobId);
        return undefined;
      },
    );
    this.urls.set(thumbnail.blobId, url);
    while (this.urls.size > PREVIEWS_KEPT) {
      const [oldest, gone] = this.urls.entries().next().value as [string, Promise<string>];
      this.urls.delete(oldest);
      void gone.then((u) => u && URL.revokeObjectURL(u));
    }
    return url;
  }

  clear(): void {
    for (const url of this.urls.values()) void url.then((u) => u && URL.revokeObjectURL(u));
    this.urls.clear();
  }
}
