import { ByteRows } from './byte-rows.js';

/** A statement id is a lower-case UUID (protocol/v1/primitives.ts `Uuid`): 16 bytes. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A hex digit's value (the UUID test passed: 0-9 or a-f). */
const nibble = (code: number) => (code <= 0x39 ? code - 0x30 : code - 0x57);

/**
 * The 16 bytes of a lower-case UUID; one text has one form, so equal ids give equal bytes.
 * Without Buffer: the Console's directory (in the browser) keeps its ids the same way.
 */
function bytesOf(id: string): Uint8Array {
  if (!UUID.test(id)) throw new TypeError('a statement id is a lower-case UUID');
  const bytes = new Uint8Array(16);
  for (let i = 0, at = 0; i < 16; i++, at += 2) {
    if (id.charCodeAt(at) === 0x2d) at++;
    bytes[i] = (nibble(id.charCodeAt(at)) << 4) | nibble(id.charCodeAt(at + 1));
  }
  return bytes;
}

/**
 * The ids of the statements applied, as 16 bytes each (ByteRows) rather than 36-character
 * strings in a Set: an id is used once in the whole log, and a 100,000-device log has 200,000.
 *
 * @example
 * const ids = new StatementIds();
 * ids.add('0b6e7f9a-1c2d-4e5f-8a9b-0c1d2e3f4a5b');
 * ids.has('0b6e7f9a-1c2d-4e5f-8a9b-0c1d2e3f4a5b'); // true
 */
export class StatementIds {
  readonly #rows: ByteRows;

  constructor(rows = new ByteRows(16)) {
    this.#rows = rows;
  }

  get size(): number {
    return this.#rows.length;
  }

  has(id: string): boolean {
    return this.#rows.has(bytesOf(id));
  }

  /** Adds an id not yet in the set (`has` first). */
  add(id: string): void {
    this.#rows.push(bytesOf(id));
  }

  /** An independent copy. */
  copy(): StatementIds {
    return new StatementIds(this.#rows.copy());
  }
}
