import { padme } from '../crypto/padme.js';

// Envelope padding (PROTOCOL.md §7.2): the plaintext is padded with spaces, which JSON allows
// after a value, to a size that says little about the message: Padmé (crypto/padme.ts), and
// never less than 512 bytes, so all short lines look alike.

/** The smallest padded plaintext. */
export const MIN_PADDED = 512;

/** Padmé's length for `length`, at least MIN_PADDED. */
export const paddedLength = (length: number): number => padme(Math.max(length, MIN_PADDED));

/** `json` (UTF-8) followed by spaces up to `target` bytes. */
export function pad(json: Uint8Array, target: number): Uint8Array {
  if (target <= json.length) return json;
  const out = new Uint8Array(target).fill(0x20);
  out.set(json);
  return out;
}
