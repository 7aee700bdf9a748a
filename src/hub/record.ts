import type { RecordBody } from '../../protocol/v1/record.js';
import { backend } from '../crypto/current.js';
import { encode } from '../crypto/encoding.js';
import { utf8 } from '../crypto/sodium.js';

export const GENESIS = '0'.repeat(64);

const DOMAIN = 'liaison/v1/record';
/** `encode([DOMAIN, prev])` with the body's length prefix to follow: the same for every entry. */
const HEAD_BYTES = 4 + DOMAIN.length + 4 + 32 + 4;
/** A stored entry starts with the hash in hex and a space. */
const STORED_HEAD = 64 + 1;

/** `BLAKE2b-256(encode(["liaison/v1/record", prev, body]))` in hex: each entry commits to the last. */
export function entryHash(prev: string, bodyText: string): string {
  return chainEntry(prev, bodyText).hash;
}

/**
 * An entry's hash and its stored bytes (`<hash> <body JSON>`, see formatEntry), made together:
 * the body (the envelope inside it, a few KB) is encoded to UTF-8 once, in place, and hashed
 * and sent to Redis from that one buffer. The hash's encoding is written just before the body,
 * in the bytes the hash then takes.
 */
export function chainEntry(prev: string, bodyText: string): { hash: string; stored: Buffer } {
  const length = Buffer.byteLength(bodyText);
  const out = Buffer.allocUnsafe(STORED_HEAD + length);
  const at = STORED_HEAD - HEAD_BYTES;
  out.write(bodyText, STORED_HEAD, 'utf8');
  let hash: string;
  // A stored entry can be tampered with: what is not a hash is hashed as the slow way reads it.
  if (prev.length !== 64 || out.write(prev, at + 8 + DOMAIN.length, 32, 'hex') !== 32) {
    hash = hex(backend().hash(32, entryHashInput(prev, bodyText)));
  } else {
    out.writeUInt32BE(DOMAIN.length, at);
    out.write(DOMAIN, at + 4, 'latin1');
    out.writeUInt32BE(32, at + 4 + DOMAIN.length);
    out.writeUInt32BE(length, STORED_HEAD - 4);
    hash = hex(backend().hash(32, out.subarray(at)));
  }
  out.write(hash, 0, 'latin1');
  out[64] = 0x20;
  return { hash, stored: out };
}

const hex = (bytes: Uint8Array) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');

/** The encoding entryHash hashes, the slow way: what the fast one is tested against. */
export const entryHashInput = (prev: string, bodyText: string) =>
  encode([DOMAIN, Buffer.from(prev, 'hex'), utf8(bodyText)]);

/** A stored entry is `<hash> <body JSON>`: the body's exact bytes are what the hash covers. */
export const formatEntry = (hash: string, bodyText: string) => `${hash} ${bodyText}`;

/**
 * The live-feed message for a batch of stored entries: one line each (a stored entry holds no
 * newline: its body is JSON.stringify's output), so a batch costs Redis one publish.
 */
export const recordedMessage = (stored: readonly string[]) => stored.join('\n');

/** The stored entries of a live-feed message, in order. */
export const recordedEntries = (message: string) => message.split('\n');

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
