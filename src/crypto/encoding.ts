/**
 * The canonical byte encoding used for everything that is signed or authenticated but travels as
 * JSON (PROTOCOL.md §Canonical encoding). Each item is a 4-byte big-endian length followed by its
 * bytes; strings are UTF-8, integers are 8-byte big-endian unsigned, a list is the encoding of its
 * items. It is unambiguous, so no two different values encode to the same bytes.
 */
export type Item = string | number | Uint8Array | readonly Item[];

const textEncoder = new TextEncoder();

function itemBytes(item: Item): Uint8Array {
  if (typeof item === 'string') return textEncoder.encode(item);
  if (typeof item === 'number') {
    if (!Number.isSafeInteger(item) || item < 0) throw new TypeError(`not a u64: ${item}`);
    const out = new Uint8Array(8);
    new DataView(out.buffer).setBigUint64(0, BigInt(item));
    return out;
  }
  if (item instanceof Uint8Array) return item;
  return encode(item);
}

/** Encodes the items in order: `u32be(len(item)) || item` for each. */
export function encode(items: readonly Item[]): Uint8Array {
  const parts = items.map(itemBytes);
  const total = parts.reduce((sum, part) => sum + 4 + part.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const part of parts) {
    view.setUint32(at, part.length);
    out.set(part, at + 4);
    at += 4 + part.length;
  }
  return out;
}
