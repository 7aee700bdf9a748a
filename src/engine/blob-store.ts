import { LiaisonError } from '../errors.js';

/**
 * Where attachment blobs live (PROTOCOL.md §8.2): ciphertext chunks only, stored with the inbox
 * retention, counted against their office's quota. Chunks arrive in order, so an upload resumes
 * from `received`; a sealed blob no longer changes. Every step that checks and writes is atomic.
 */
export interface BlobStore {
  /** Stores chunk `index` of `blobId`; chunk 0 creates it. Returns the chunks now stored. */
  put(request: BlobPut): Promise<number>;
  /** The blob's state, or undefined when it is not stored (never, or expired). */
  status(blobId: string): Promise<BlobState | undefined>;
  /**
   * Marks an upload complete once `chunks` are stored, keeping the `hash` they were checked
   * against (idempotent); BLOB_INVALID otherwise.
   */
  seal(blobId: string, owner: string, chunks: number, hash: string): Promise<BlobState>;
  /** Deletes an unsealed upload of `owner` (it failed its check) and gives its bytes back. */
  discard(blobId: string, owner: string): Promise<void>;
  /** One stored chunk, or undefined. */
  get(blobId: string, index: number): Promise<Uint8Array | undefined>;
  /** Bytes the office's live blobs hold. */
  usage(office: string): Promise<number>;
}

export interface BlobPut {
  readonly blobId: string;
  /** The uploading office: only it may add to, or seal, the blob. */
  readonly owner: string;
  readonly index: number;
  readonly chunk: Uint8Array;
  /** Most bytes one blob may hold. */
  readonly maxBytes: number;
  /** Most bytes the owner's live blobs may hold together. */
  readonly quotaBytes: number;
  /** Most live blobs the owner may have (each costs keys whatever its size). */
  readonly maxBlobs: number;
}

export interface BlobState {
  readonly owner: string;
  readonly received: number;
  /** Bytes stored (the ciphertext chunks together). */
  readonly bytes: number;
  readonly sealed: boolean;
  /** Once sealed: the BLAKE2b-256 (base64url) the stored chunks were checked against. */
  readonly hash?: string;
  readonly expiresAt: number;
}

/** The refusals both implementations give, with the same codes and details. */
export const blobRefusal = {
  notOwner: () => new LiaisonError('BLOB_NOT_FOUND', 'no such blob of this office'),
  noStart: () => new LiaisonError('BLOB_NOT_FOUND', 'no such blob: an upload starts at chunk 0'),
  sealed: () => new LiaisonError('BLOB_INVALID', 'the blob is sealed: it no longer changes'),
  order: (received: number) =>
    new LiaisonError('BLOB_INVALID', 'chunks are put in order: resume at `received`', {
      received,
    }),
  tooLarge: (maxBytes: number) =>
    new LiaisonError('PAYLOAD_TOO_LARGE', 'the blob would exceed the largest attachment', {
      limit: maxBytes,
    }),
  quota: (quotaBytes: number, used: number) =>
    new LiaisonError('QUOTA_EXCEEDED', undefined, { quotaBytes, usedBytes: used }),
  count: (maxBlobs: number) =>
    new LiaisonError('QUOTA_EXCEEDED', 'the office has as many blobs stored as it may', {
      maxBlobs,
    }),
  incomplete: (received: number) =>
    new LiaisonError('BLOB_INVALID', 'not every chunk is stored', { received }),
};

interface MemoryBlob {
  owner: string;
  chunks: Uint8Array[];
  bytes: number;
  sealed: boolean;
  hash?: string;
  expiresAt: number;
}

/** The blobs of one process (the quick start, tests). */
export class MemoryBlobStore implements BlobStore {
  private readonly blobs = new Map<string, MemoryBlob>();

  constructor(
    private readonly retentionMs: number,
    private readonly clock: () => number = Date.now,
  ) {}

  async put(request: BlobPut): Promise<number> {
    const { blobId, owner, index, chunk } = request;
    this.reclaim();
    let blob = this.blobs.get(blobId);
    if (blob && blob.owner !== owner) throw blobRefusal.notOwner();
    if (!blob) {
      if (index !== 0) throw blobRefusal.noStart();
      let live = 0;
      for (const b of this.blobs.values()) if (b.owner === owner) live++;
      if (live >= request.maxBlobs) throw blobRefusal.count(request.maxBlobs);
      blob = {
        owner,
        chunks: [],
        bytes: 0,
        sealed: false,
        expiresAt: this.clock() + this.retentionMs,
      };
    }
    const received = blob.chunks.length;
    if (index < received) return received;
    if (blob.sealed) throw blobRefusal.sealed();
    if (index > received) throw blobRefusal.order(received);
    if (blob.bytes + chunk.byteLength > request.maxBytes)
      throw blobRefusal.tooLarge(request.maxBytes);
    // Checked and stored with no await between: chunks put at once cannot pass it together.
    const used = this.usedBy(owner);
    if (used + chunk.byteLength > request.quotaBytes)
      throw blobRefusal.quota(request.quotaBytes, used);
    this.blobs.set(blobId, blob);
    blob.chunks.push(chunk.slice());
    blob.bytes += chunk.byteLength;
    return blob.chunks.length;
  }

  async status(blobId: string): Promise<BlobState | undefined> {
    this.reclaim();
    const blob = this.blobs.get(blobId);
    return blob && stateOf(blob);
  }

  async seal(blobId: string, owner: string, chunks: number, hash: string): Promise<BlobState> {
    this.reclaim();
    const blob = this.blobs.get(blobId);
    if (!blob || blob.owner !== owner) throw blobRefusal.notOwner();
    if (blob.chunks.length !== chunks) throw blobRefusal.incomplete(blob.chunks.length);
    if (!blob.sealed) blob.hash = hash;
    blob.sealed = true;
    return stateOf(blob);
  }

  async discard(blobId: string, owner: string): Promise<void> {
    const blob = this.blobs.get(blobId);
    if (blob && blob.owner === owner && !blob.sealed) this.blobs.delete(blobId);
  }

  async get(blobId: string, index: number): Promise<Uint8Array | undefined> {
    this.reclaim();
    return this.blobs.get(blobId)?.chunks[index];
  }

  async usage(office: string): Promise<number> {
    return this.usedBy(office);
  }

  private usedBy(office: string): number {
    let used = 0;
    for (const blob of this.blobs.values()) if (blob.owner === office) used += blob.bytes;
    return used;
  }

  private reclaim(): void {
    const now = this.clock();
    for (const [id, blob] of this.blobs) if (blob.expiresAt <= now) this.blobs.delete(id);
  }
}

const stateOf = (blob: MemoryBlob): BlobState => ({
  owner: blob.owner,
  received: blob.chunks.length,
  bytes: blob.bytes,
  sealed: blob.sealed,
  ...(blob.hash === undefined ? {} : { hash: blob.hash }),
  expiresAt: blob.expiresAt,
});
