/**
 * Rows of a fixed number of bytes, by position and as a set: each row is `width` bytes of one
 * buffer plus a slot or two of an open-addressed table, where the same value as a string in an
 * array or a Set costs several times that (a 100,000-device directory has 200,000 statements,
 * each with a hash and an id).
 *
 * @example
 * const rows = new ByteRows(32);
 * rows.push(digest);
 * rows.has(digest); // true
 * rows.row(0); // a view of digest's bytes
 */
export class ByteRows {
  readonly width: number;
  #bytes: Uint8Array;
  #length = 0;
  /** Open addressing: a position + 1 per used slot, 0 for a free one; never more than half full. */
  #slots = new Int32Array(128);

  constructor(width: number) {
    if (!Number.isInteger(width) || width < 4) throw new TypeError('a row is at least 4 bytes');
    this.width = width;
    this.#bytes = new Uint8Array(width * 64);
  }

  get length(): number {
    return this.#length;
  }

  /** The row at `index` (a view: copy it to keep it past the next push), if there is one. */
  row(index: number): Uint8Array | undefined {
    if (index < 0 || index >= this.#length) return undefined;
    return this.#bytes.subarray(index * this.width, (index + 1) * this.width);
  }

  has(row: Uint8Array): boolean {
    if (row.length !== this.width) return false;
    const mask = this.#slots.length - 1;
    for (let slot = this.#slotOf(row, 0) & mask; ; slot = (slot + 1) & mask) {
      const entry = this.#slots[slot] as number;
      if (entry === 0) return false;
      if (this.#equals(entry - 1, row)) return true;
    }
  }

  /** Appends a row (the caller refuses repeats: `has` first). */
  push(row: Uint8Array): void {
    if (row.length !== this.width) throw new TypeError(`a row is ${this.width} bytes`);
    if ((this.#length + 1) * this.width > this.#bytes.length) {
      const grown = new Uint8Array(this.#bytes.length * 2);
      grown.set(this.#bytes);
      this.#bytes = grown;
    }
    this.#bytes.set(row, this.#length * this.width);
    this.#length++;
    if (this.#length * 2 > this.#slots.length) this.#rehash(this.#slots.length * 2);
    else this.#insert(this.#length - 1);
  }

  /** An independent copy. */
  copy(): ByteRows {
    const twin = new ByteRows(this.width);
    twin.#bytes = this.#bytes.slice();
    twin.#length = this.#length;
    twin.#slots = this.#slots.slice();
    return twin;
  }

  #equals(index: number, row: Uint8Array): boolean {
    const at = index * this.width;
    for (let i = 0; i < this.width; i++) if (this.#bytes[at + i] !== row[i]) return false;
    return true;
  }

  #insert(index: number): void {
    const mask = this.#slots.length - 1;
    let slot = this.#slotOf(this.#bytes, index * this.width) & mask;
    while (this.#slots[slot] !== 0) slot = (slot + 1) & mask;
    this.#slots[slot] = index + 1;
  }

  #rehash(size: number): void {
    this.#slots = new Int32Array(size);
    for (let i = 0; i < this.#length; i++) this.#insert(i);
  }

  /**
   * FNV-1a of the whole row: digests are uniformly random already, but ids need not be (a
   * time-ordered UUID repeats its first bytes), and linear probing degrades on clustered indexes.
   */
  #slotOf(bytes: Uint8Array, at: number): number {
    let hash = 0x811c9dc5;
    for (let i = at; i < at + this.width; i++) {
      hash = Math.imul(hash ^ (bytes[i] as number), 0x01000193);
    }
    return hash >>> 0;
  }
}
