import { toBase64Url } from '../crypto/sodium.js';

/** BLAKE2b-256 digests: the statement hashes of the directory log. */
const DIGEST_BYTES = 32;

/**
 * The hash of every statement of a log, by position and as a set, held as raw bytes: 32 bytes
 * and one table slot a statement, where a string and a set entry each cost about five times
 * that (a 100,000-device directory has 200,000 statements).
 *
 * @example
 * const hashes = new HashLog();
 * hashes.push(digest);
 * hashes.has(digest); // true
 * hashes.at(0); // base64url of digest
 */
export class HashLog {
  #bytes = new Uint8Array(DIGEST_BYTES * 64);
  #length = 0;
  /** Open addressing: a position + 1 per used slot, 0 for a free one; never more than half full. */
  #slots = new Int32Array(128);

  get length(): number {
    return this.#length;
  }

  /** The hash at `index` as base64url, if the log is that long. */
  at(index: number): string | undefined {
    if (index < 0 || index >= this.#length) return undefined;
    return toBase64Url(this.#bytes.subarray(index * DIGEST_BYTES, (index + 1) * DIGEST_BYTES));
  }

  has(digest: Uint8Array): boolean {
    return this.#find(digest) >= 0;
  }

  /** Appends the next statement's digest (the caller refuses repeats: `has` first). */
  push(digest: Uint8Array): void {
    if (digest.length !== DIGEST_BYTES) throw new TypeError('a statement hash is 32 bytes');
    if ((this.#length + 1) * DIGEST_BYTES > this.#bytes.length) {
      const grown = new Uint8Array(this.#bytes.length * 2);
      grown.set(this.#bytes);
      this.#bytes = grown;
    }
    this.#bytes.set(digest, this.#length * DIGEST_BYTES);
    this.#length++;
    if (this.#length * 2 > this.#slots.length) this.#rehash(this.#slots.length * 2);
    else this.#insert(this.#length - 1);
  }

  /** An independent copy. */
  copy(): HashLog {
    const twin = new HashLog();
    twin.#bytes = this.#bytes.slice();
    twin.#length = this.#length;
    twin.#slots = this.#slots.slice();
    return twin;
  }

  /** The slot index holding `digest`, or −1. */
  #find(digest: Uint8Array): number {
    if (digest.length !== DIGEST_BYTES) return -1;
    const mask = this.#slots.length - 1;
    for (let slot = slotOf(digest, 0) & mask; ; slot = (slot + 1) & mask) {
      const entry = this.#slots[slot] as number;
      if (entry === 0) return -1;
      if (this.#equals(entry - 1, digest)) return slot;
    }
  }

  #equals(index: number, digest: Uint8Array): boolean {
    const at = index * DIGEST_BYTES;
    for (let i = 0; i < DIGEST_BYTES; i++) if (this.#bytes[at + i] !== digest[i]) return false;
    return true;
  }

  #insert(index: number): void {
    const mask = this.#slots.length - 1;
    let slot = slotOf(this.#bytes, index * DIGEST_BYTES) & mask;
    while (this.#slots[slot] !== 0) slot = (slot + 1) & mask;
    this.#slots[slot] = index + 1;
  }

  #rehash(size: number): void {
    this.#slots = new Int32Array(size);
    for (let i = 0; i < this.#length; i++) this.#insert(i);
  }
}

/** The digests are uniformly random already: four of their bytes make a good table index. */
const slotOf = (bytes: Uint8Array, at: number): number =>
  ((bytes[at] as number) |
    ((bytes[at + 1] as number) << 8) |
    ((bytes[at + 2] as number) << 16) |
    ((bytes[at + 3] as number) << 24)) >>>
  0;
