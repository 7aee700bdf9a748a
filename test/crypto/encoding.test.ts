// The canonical encoding is written in one pass with a shortcut for short ASCII strings, and the
// hub's entry hash is written straight into one buffer. Both must give exactly the bytes of the
// plain definition (PROTOCOL.md §Canonical encoding) for any input, ASCII or not.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backend } from '../../src/crypto/current.js';
import { encode, type Item } from '../../src/crypto/encoding.js';
import { ready } from '../../src/crypto/sodium.js';
import { entryHash, entryHashInput, GENESIS } from '../../src/hub/record.js';

/** The definition, item by item, with no shortcut: u32be(len) || bytes. */
function reference(items: readonly Item[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const item of items) {
    let bytes: Uint8Array;
    if (typeof item === 'string') bytes = new TextEncoder().encode(item);
    else if (typeof item === 'number') {
      bytes = new Uint8Array(8);
      new DataView(bytes.buffer).setBigUint64(0, BigInt(item));
    } else if (item instanceof Uint8Array) bytes = item;
    else bytes = reference(item);
    const prefix = new Uint8Array(4);
    new DataView(prefix.buffer).setUint32(0, bytes.length);
    parts.push(prefix, bytes);
  }
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}

const text = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'grapheme', maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.constantFrom('Қордай', 'Ак-Жол', 'KZ-KORDAI/desk-1', `${'x'.repeat(63)}é`, 'é'.repeat(70)),
);
const item: fc.Arbitrary<Item> = fc.letrec<{ item: Item }>((tie) => ({
  item: fc.oneof(
    { depthSize: 'small' },
    text,
    fc.nat({ max: Number.MAX_SAFE_INTEGER }),
    fc.uint8Array({ maxLength: 40 }),
    fc.array(tie('item'), { maxLength: 4 }),
  ),
})).item;

describe('canonical encoding', () => {
  it('gives the bytes of its definition for any strings, numbers, bytes and lists', () => {
    fc.assert(
      fc.property(fc.array(item, { maxLength: 6 }), (items) => {
        expect([...encode(items)]).toEqual([...reference(items)]);
      }),
      { numRuns: 500 },
    );
  });

  it('the record entry hash is the hash of its encoding, whatever the body holds', async () => {
    await ready;
    const prev = fc.oneof(
      fc.constant(GENESIS),
      fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex')),
      // What a tampered record could name as the previous hash.
      fc.string({ maxLength: 70 }),
    );
    const body = fc.oneof(fc.string({ maxLength: 3000 }), fc.string({ unit: 'binary' }));
    fc.assert(
      fc.property(prev, body, (p, b) => {
        const expected = Buffer.from(backend().hash(32, entryHashInput(p, b))).toString('hex');
        expect(entryHash(p, b)).toBe(expected);
      }),
      { numRuns: 300 },
    );
  });
});
