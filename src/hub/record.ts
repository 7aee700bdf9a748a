import type { RecordBody } from '../../protocol/v1/record.js';
import { backend } from '../crypto/current.js';
import { encode } from '../crypto/encoding.js';
import { utf8 } from '../crypto/sodium.js';

export const GENESIS = '0'.repeat(64);

const DOMAIN = 'liaison/v1/record';
/** `encode([DOMAIN, prev])` with the body's length prefix to follow: the same for every entry. */
const HEAD_BYTES = 4 + DOMAIN.length + 4 + 32 + 4;

/** `BLAKE2b-256(encode(["liaison/v1/record", prev, body]))` in hex: each entry commits to the last. */
export function entryHash(prev: string, bodyText: string): string {
  // The encoding written straight into one buffer: the body (the envelope inside it, a few KB)
  // is encoded to UTF-8 once, in place, and never copied again.
  const length = Buffer.byteLength(bodyText);
  const input = Buffer.allocUnsafe(HEAD_BYTES + length);
  input.writeUInt32BE(DOMAIN.length, 0);
  input.write(DOMAIN, 4, 'latin1');
  input.writeUInt32BE(32, 4 + DOMAIN.length);
  // A stored entry can be tampered with: what is not a hash is hashed as the slow way reads it.
  if (prev.length !== 64 || input.write(prev, 8 + DOMAIN.length, 32, 'hex') !== 32) {
    return hex(backend().hash(32, entryHashInput(prev, bodyText)));
  }
  input.writeUInt32BE(length, HEAD_BYTES - 4);
  input.write(bodyText, HEAD_BYTES, 'utf8');
  return hex(backend().hash(32, input));
}

const hex = (bytes: Uint8Array) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');

/** The encoding entryHash hashes, the slow way: what the fast one is tested against. */
export const entryHashInput = (prev: string, bodyText: string) =>
  encode([DOMAIN, Buffer.from(prev, 'hex'), utf8(bodyText)]);

/** A stored entry is `<hash> <body JSON>`: the body's exact bytes are what the hash covers. */
export const formatEntry = (hash: string, bodyText: string) => `${hash} ${bodyText}`;

export function parseEntry(stored: string): { hash: string; bodyText: string; body: RecordBody } {
  const space = stored.indexOf(' ');
  const bodyText = stored.slice(space + 1);
  return { hash: stored.slice(0, space), bodyText, body: JSON.parse(bodyText) as RecordBody };
}

export interface ChainReport {
  readonly ok: boolean;
  readonly entries: number;
  /** The first entry that does not follow from the one before it, and why. */
  readonly broken?: { position: number; seq?: number; reason: string };
}

/**
 * Checks a whole record: every entry's hash covers its body, names the previous entry's hash, and
 * carries the next sequence number. An edited, deleted, inserted or reordered entry breaks one of
 * these at the first place it touches.
 */
export function verifyChain(
  stored: Iterable<string>,
  base: { seq: number; hash: string } = { seq: 0, hash: GENESIS },
  /** Where the record says it ends: entries cut off its tail are caught against it. */
  head?: { seq: number; hash: string },
): ChainReport {
  let prev = base.hash;
  let seq = base.seq;
  let position = 0;
  for (const text of stored) {
    position++;
    let entry: ReturnType<typeof parseEntry>;
    try {
      entry = parseEntry(text);
    } catch {
      return {
        ok: false,
        entries: position - 1,
        broken: { position, reason: 'entry is not readable' },
      };
    }
    const { hash, bodyText, body } = entry;
    const broken = (reason: string) => ({
      ok: false,
      entries: position - 1,
      broken: { position, seq: body.seq, reason },
    });
    if (body.seq !== seq + 1) return broken(`sequence ${body.seq} follows ${seq}`);
    if (body.prev !== prev) return broken('does not name the previous entry');
    if (entryHash(prev, bodyText) !== hash) return broken('content does not match its hash');
    prev = hash;
    seq = body.seq;
  }
  if (head && (head.seq !== seq || head.hash !== prev)) {
    const reason = `record ends before its head (seq ${head.seq})`;
    return {
      ok: false,
      entries: position,
      broken: { position: position + 1, seq: seq + 1, reason },
    };
  }
  return { ok: true, entries: position };
}
