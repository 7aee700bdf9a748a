import { toBase64Url } from '../crypto/sodium.js';
import { ByteRows } from './byte-rows.js';

/** BLAKE2b-256 digests: the statement hashes of the directory log. */
const DIGEST_BYTES = 32;

/**
 * The hash of every statement of a log, by position and as a set, held as raw bytes (ByteRows):
 * 32 bytes and one table slot a statement.
 *
 * @example
 * const hashes = new HashLog();
 * hashes.push(digest);
 * hashes.has(digest); // true
 * hashes.at(0); // base64url of digest
 */
export class HashLog {
  readonly #rows: ByteRows;

  constructor(rows = new ByteRows(DIGEST_BYTES)) {
    this.#rows = rows;
  }

  get length(): number {
    return this.#rows.length;
  }

  /** The hash at `index` as base64url, if the log is that long. */
  at(index: number): string | undefined {
    const row = this.#rows.row(index);
    return row && toBase64Url(row);
  }

  has(digest: Uint8Array): boolean {
    return this.#rows.has(digest);
  }

  /** Appends the next statement's digest (the caller refuses repeats: `has` first). */
  push(digest: Uint8Array): void {
    if (digest.length !== DIGEST_BYTES) throw new TypeError('a statement hash is 32 bytes');
    this.#rows.push(digest);
  }

  /** An independent copy. */
  copy(): HashLog {
    return new HashLog(this.#rows.copy());
  }
}
