// Envelope padding (PROTOCOL.md §7.2): the plaintext is padded with spaces, which JSON allows
// after a value, to a size that says little about the message: Padmé (Nikitin et al., "Reducing
// Metadata Leakage from Encrypted Files and Communication with PURBs", PETS 2019), which leaks
// O(log log L) bits of a length L for at most 11 % more bytes, and never less than 512 bytes,
// so all short lines look alike.

/** The smallest padded plaintext. */
export const MIN_PADDED = 512;

/** Padmé: `L` rounded up to a multiple of 2^(E − S), E = floor(log2 L), S = floor(log2 E) + 1. */
export function paddedLength(length: number): number {
  const l = Math.max(length, MIN_PADDED);
  const e = Math.floor(Math.log2(l));
  const s = Math.floor(Math.log2(e)) + 1;
  const mask = 2 ** (e - s) - 1;
  return Math.ceil(l / (mask + 1)) * (mask + 1);
}

/** `json` (UTF-8) followed by spaces up to `target` bytes. */
export function pad(json: Uint8Array, target: number): Uint8Array {
  if (target <= json.length) return json;
  const out = new Uint8Array(target).fill(0x20);
  out.set(json);
  return out;
}
