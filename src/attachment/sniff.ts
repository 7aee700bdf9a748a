/** Media types recognised from their first bytes; anything else is application/octet-stream. */
const MAGIC: readonly { type: string; at: number; bytes: readonly number[] }[] = [
  { type: 'image/jpeg', at: 0, bytes: [0xff, 0xd8, 0xff] },
  { type: 'image/png', at: 0, bytes: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] },
  { type: 'application/pdf', at: 0, bytes: [0x25, 0x50, 0x44, 0x46, 0x2d] },
  { type: 'image/gif', at: 0, bytes: [0x47, 0x49, 0x46, 0x38] },
  { type: 'image/webp', at: 8, bytes: [0x57, 0x45, 0x42, 0x50] },
  { type: 'image/tiff', at: 0, bytes: [0x49, 0x49, 0x2a, 0x00] },
  { type: 'image/tiff', at: 0, bytes: [0x4d, 0x4d, 0x00, 0x2a] },
];

/**
 * The media type of decrypted content, from its magic bytes alone: what the sender declared is
 * never trusted (a "photo" that is an executable stays application/octet-stream).
 *
 * @example sniffType(firstChunk) // 'image/jpeg'
 */
export function sniffType(head: Uint8Array): string {
  for (const { type, at, bytes } of MAGIC) {
    if (head.byteLength < at + bytes.length) continue;
    if (type === 'image/webp' && !(head[0] === 0x52 && head[1] === 0x49 && head[2] === 0x46))
      continue;
    if (bytes.every((b, i) => head[at + i] === b)) return type;
  }
  return 'application/octet-stream';
}
