/**
 * The canonical byte encoding used for everything that is signed or authenticated but travels as
 * JSON (PROTOCOL.md §Canonical encoding). Each item is a 4-byte big-endian length followed by its
 * bytes; strings are UTF-8, integers are 8-byte big-endian unsigned, a list is the encoding of its
 * items. It is unambiguous, so no two different values encode to the same bytes.
 */
export type Item = string | number | Uint8Array | readonly Item[];

const textEncoder = new TextEncoder();
const TWO_32 = 2 ** 32;
/** Strings up to this many UTF-16 units are tried as ASCII first. */
const SHORT = 64;

// Every signature and hash on a server's hot path encodes its input here, so the size is found
// first and each item written once, in place: no intermediate arrays per item or per list.

/** Bytes the item takes without its length prefix (strings: an upper bound, 3 per UTF-16 unit). */
function bound(item: Item): number {
  if (typeof item === 'string') return item.length * 3;
  if (typeof item === 'number') {
    if (!Number.isSafeInteger(item) || item < 0) throw new TypeError(`not a u64: ${item}`);
    return 8;
  }
  if (item instanceof Uint8Array) return item.length;
  let total = 0;
  for (const inner of item) total += 4 + bound(inner);
  return total;
}

/** Writes `item` (without its prefix) at `at`; returns where it ended. */
function write(out: Uint8Array, view: DataView, at: number, item: Item): number {
  if (typeof item === 'string') {
    // Ids, key ids and domain strings are short ASCII: written in place, without a subarray and
    // a call into the encoder for each. Anything else goes through the encoder.
    const n = item.length;
    if (n <= SHORT) {
      let i = 0;
      for (; i < n; i++) {
        const c = item.charCodeAt(i);
        if (c >= 0x80) break;
        out[at + i] = c;
      }
      if (i === n) return at + n;
    }
    return at + textEncoder.encodeInto(item, out.subarray(at)).written;
  }
  if (typeof item === 'number') {
    view.setUint32(at, Math.floor(item / TWO_32));
    view.setUint32(at + 4, item % TWO_32);
    return at + 8;
  }
  if (item instanceof Uint8Array) {
    out.set(item, at);
    return at + item.length;
  }
  for (const inner of item) {
    const end = write(out, view, at + 4, inner);
    view.setUint32(at, end - at - 4);
    at = end;
  }
  return at;
}

/**
 * Encodes the items in order: `u32be(len(item)) || item` for each. `alloc` gives the bytes to
 * write into (at least the size asked; they need not be zeroed: only what is written is returned).
 */
export function encode(
  items: readonly Item[],
  alloc: (size: number) => Uint8Array = (size) => new Uint8Array(size),
): Uint8Array {
  const out = alloc(bound(items));
  const end = write(out, new DataView(out.buffer, out.byteOffset, out.byteLength), 0, items);
  return out.subarray(0, end);
}
