// Padmé (Nikitin et al., "Reducing Metadata Leakage from Encrypted Files and Communication with
// PURBs", PETS 2019): a length rounded up so that it leaks O(log log L) bits of L, for at most
// 11 % more bytes. Envelopes (PROTOCOL.md §7.2) and attachments (§8.2) are padded with it.

/** Padmé: `L` rounded up to a multiple of 2^(E − S), E = floor(log2 L), S = floor(log2 E) + 1. */
export function padme(length: number): number {
  if (length < 2) return length;
  const e = Math.floor(Math.log2(length));
  const s = Math.floor(Math.log2(e)) + 1;
  const mask = 2 ** (e - s) - 1;
  return Math.ceil(length / (mask + 1)) * (mask + 1);
}
