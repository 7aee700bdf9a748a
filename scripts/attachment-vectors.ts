// The attachment vector (PROTOCOL.md §8.2), from the same fixed seeds as the rest of
// protocol/vectors/: a file of one full chunk and 100 bytes more, padded with zeros to Padmé's
// length (270,336 bytes), encrypted under a fixed key and header. libsodium makes a random header in init_push; the push state is the one init_pull
// derives from the header, so the vector derives it that way to be reproducible.
import { ATTACHMENT_CHUNK_BYTES } from '../protocol/v1/blob.js';
import { padme } from '../src/crypto/padme.js';
import { ready, toBase64Url } from '../src/crypto/sodium.js';

type Fixed = (label: string, length?: number) => Uint8Array;
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/** Byte i of the vector's file: i mod 251, after a JPEG start. */
export function vectorFile(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = i % 251;
  bytes.set([0xff, 0xd8, 0xff, 0xe0]);
  return bytes;
}

export async function attachmentVector(fixed: Fixed) {
  const sodium = await ready;
  const key = fixed('attachment key');
  const header = fixed('attachment header', 24);
  const size = ATTACHMENT_CHUNK_BYTES + 100;
  const padded = padme(size);
  // The file, then zeros: what the blob decrypts to.
  const plaintext = new Uint8Array(padded);
  plaintext.set(vectorFile(size));
  const state = sodium.crypto_secretstream_xchacha20poly1305_init_pull(header, key);
  const chunks = [
    sodium.crypto_secretstream_xchacha20poly1305_push(
      state,
      plaintext.subarray(0, ATTACHMENT_CHUNK_BYTES),
      null,
      sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE,
    ),
    sodium.crypto_secretstream_xchacha20poly1305_push(
      state,
      plaintext.subarray(ATTACHMENT_CHUNK_BYTES),
      null,
      sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL,
    ),
  ];
  const hashing = sodium.crypto_generichash_init(null, 32);
  for (const chunk of chunks) sodium.crypto_generichash_update(hashing, chunk);
  const hash = sodium.crypto_generichash_final(hashing, 32);
  return {
    description:
      'An attachment (PROTOCOL.md §8.2): the file is `size` bytes, byte i = i mod 251 except the first four (FF D8 FF E0, a JPEG start), followed by zero bytes up to `padded` (Padmé of size), cut into pieces of 262,080 bytes, pushed with crypto_secretstream_xchacha20poly1305 (no additional data; TAG_MESSAGE, then TAG_FINAL for the last). Chunk 0 is given by its length and BLAKE2b-256, chunk 1 whole. Open it: init_pull(header, key), pull each chunk, check the tags, that the plaintext is `padded` bytes whose bytes past `size` are zero, and BLAKE2b-256 of the chunks against hash; the file is the first `size` bytes.',
    file: { size, rule: 'byte i = i mod 251; bytes 0..3 = ff d8 ff e0', sniffedType: 'image/jpeg' },
    attachment: {
      blobId: '00000000-0000-4000-8000-0000000000b1',
      name: 'truck.jpg',
      size,
      padded,
      declaredType: 'image/jpeg',
      key: toBase64Url(key),
      header: toBase64Url(header),
      hash: toBase64Url(hash),
      chunks: 2,
    },
    chunks: [
      {
        index: 0,
        bytes: chunks[0]?.byteLength,
        blake2b256Hex: hex(sodium.crypto_generichash(32, chunks[0] as Uint8Array, null)),
        first32Hex: hex((chunks[0] as Uint8Array).subarray(0, 32)),
      },
      { index: 1, bytes: chunks[1]?.byteLength, hex: hex(chunks[1] as Uint8Array) },
    ],
    hashHex: hex(hash),
  };
}
