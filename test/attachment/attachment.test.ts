import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ATTACHMENT_CHUNK_BYTES, MAX_ATTACHMENT_BYTES } from '../../protocol/v1/blob.js';
import { openAttachment } from '../../src/attachment/open.js';
import { type ByteSource, paddedSize, sealAttachment } from '../../src/attachment/seal.js';
import { sniffType } from '../../src/attachment/sniff.js';
import { toBase64Url } from '../../src/crypto/sodium.js';

const JPEG = [0xff, 0xd8, 0xff, 0xe0];
const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const PDF = [...'%PDF-1.7'].map((c) => c.charCodeAt(0));

/** A file of `size` bytes that starts with `magic`, the rest patterned. */
function file(size: number, magic: number[] = []) {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + 7) & 0xff;
  bytes.set(magic.slice(0, size));
  return bytes;
}

/** Seals a source and keeps the blob's chunks, as a store would. */
async function sealToStore(source: ByteSource, declaredType?: string, padLimit?: number) {
  const sealer = await sealAttachment(source, padLimit);
  const stored: Uint8Array[] = [];
  for await (const chunk of sealer.chunks) stored.push(chunk);
  const s = sealer.result();
  const ref = {
    blobId: crypto.randomUUID(),
    size: s.size,
    ...(s.padded !== s.size ? { padded: s.padded } : {}),
    key: toBase64Url(s.key),
    header: toBase64Url(s.header),
    hash: toBase64Url(s.hash),
    chunks: s.chunks,
    ...(declaredType ? { declaredType } : {}),
  };
  const read = async (_: string, index: number) => stored[index] as Uint8Array;
  return { ref, stored, read, sealed: s };
}

describe('attachments: sealed on the device, opened by a recipient', () => {
  it('a file in uneven pieces from a Node stream comes back byte for byte, in 256 KiB chunks', async () => {
    const original = file(3 * ATTACHMENT_CHUNK_BYTES + 1234, JPEG);
    const pieces = [];
    for (let at = 0; at < original.length; at += 100_003)
      pieces.push(original.subarray(at, at + 100_003));
    const { ref, stored, read } = await sealToStore(Readable.from(pieces));
    expect(ref.chunks).toBe(4);
    // The last chunk carries the file's last 1,234 bytes, then zeros up to Padmé's length.
    const padded = paddedSize(original.length, MAX_ATTACHMENT_BYTES);
    expect(padded).toBe(802_816);
    expect(stored.map((c) => c.byteLength)).toEqual([
      ATTACHMENT_CHUNK_BYTES + 17,
      ATTACHMENT_CHUNK_BYTES + 17,
      ATTACHMENT_CHUNK_BYTES + 17,
      padded - 3 * ATTACHMENT_CHUNK_BYTES + 17,
    ]);
    const opened = await openAttachment(ref, read);
    expect(Buffer.from(opened.bytes).equals(Buffer.from(original))).toBe(true);
    expect(opened.type).toBe('image/jpeg');
  });

  it('an empty file and a file of exactly one chunk open too', async () => {
    for (const size of [0, ATTACHMENT_CHUNK_BYTES]) {
      const { ref, read } = await sealToStore(file(size), undefined, 0);
      expect(ref.chunks).toBe(1);
      expect((await openAttachment(ref, read)).bytes.byteLength).toBe(size);
    }
    // Padded, one full chunk spills into a second (Padmé's 262,144 bytes).
    const full = await sealToStore(file(ATTACHMENT_CHUNK_BYTES));
    expect(full.ref).toMatchObject({ chunks: 2, padded: 262_144 });
    expect((await openAttachment(full.ref, full.read)).bytes).toEqual(file(ATTACHMENT_CHUNK_BYTES));
  });

  it('a tampered, swapped, dropped or extra chunk, or another hash, is refused (ATTACHMENT_INVALID)', async () => {
    const { ref, stored, read } = await sealToStore(file(3 * ATTACHMENT_CHUNK_BYTES, PNG));
    const refused = (r: typeof ref, reader: typeof read) =>
      expect(openAttachment(r, reader)).rejects.toMatchObject({ code: 'ATTACHMENT_INVALID' });

    const flipped = stored.map((c) => c.slice());
    const middle = flipped[1] as Uint8Array;
    middle[100] = (middle[100] as number) ^ 1;
    await refused(ref, async (_, i) => flipped[i] as Uint8Array);
    await refused(ref, async (_, i) => stored[[1, 0, 2][i] as number] as Uint8Array);
    // Truncated: the chunk before the last is not marked final.
    await refused({ ...ref, chunks: 2 }, read);
    const other = await sealToStore(file(100));
    await refused({ ...ref, hash: other.ref.hash }, read);
    await refused({ ...ref, size: ref.size - 1 }, read);
  });

  it('the blob says only Padmé’s length of the file; the padding is zeros, and is refused if not', async () => {
    const a = await sealToStore(file(700_001, JPEG));
    const b = await sealToStore(file(700_999, JPEG));
    const bytes = (x: typeof a) => x.stored.reduce((n, c) => n + c.byteLength, 0);
    expect(bytes(a)).toBe(bytes(b));
    expect(a.ref).toMatchObject({ size: 700_001, padded: 704_512 });
    expect((await openAttachment(a.ref, a.read)).bytes).toEqual(file(700_001, JPEG));
    // A sender that "pads" with its file's own bytes: the reader refuses it.
    const unpadded = await sealToStore(file(1000, JPEG), undefined, 0);
    await expect(
      openAttachment({ ...unpadded.ref, size: 900, padded: 1000 }, unpadded.read),
    ).rejects.toMatchObject({
      code: 'ATTACHMENT_INVALID',
      message: expect.stringContaining('padding is not zeros'),
    });
    await expect(openAttachment({ ...a.ref, padded: 700_000 }, a.read)).rejects.toMatchObject({
      code: 'ATTACHMENT_INVALID',
    });
  });

  it('the type is sniffed from the content, never taken from the sender', async () => {
    expect(sniffType(file(20, JPEG))).toBe('image/jpeg');
    expect(sniffType(file(20, PNG))).toBe('image/png');
    expect(sniffType(file(20, PDF))).toBe('application/pdf');
    expect(sniffType(new Uint8Array([0x4d, 0x5a, 0x90, 0]))).toBe('application/octet-stream');
    const exe = await sealToStore(file(1000, [0x4d, 0x5a]), 'image/jpeg');
    const opened = await openAttachment(exe.ref, exe.read);
    expect(opened).toMatchObject({ type: 'application/octet-stream', typeMismatch: true });
    const pdf = await sealToStore(file(1000, PDF), 'application/pdf');
    expect(await openAttachment(pdf.ref, pdf.read)).toMatchObject({
      type: 'application/pdf',
      typeMismatch: false,
    });
  });

  it('a file past the largest attachment is refused while reading (PAYLOAD_TOO_LARGE)', async () => {
    async function* endless() {
      for (let sent = 0; sent <= MAX_ATTACHMENT_BYTES; sent += 1024 * 1024)
        yield new Uint8Array(1024 * 1024);
    }
    const sealer = await sealAttachment(endless());
    let chunks = 0;
    await expect(
      (async () => {
        for await (const _ of sealer.chunks) chunks++;
      })(),
    ).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(chunks).toBeLessThanOrEqual(MAX_ATTACHMENT_BYTES / ATTACHMENT_CHUNK_BYTES);
  });
});
