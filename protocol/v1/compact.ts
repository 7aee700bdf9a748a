import { z } from 'zod';
import {
  ENVELOPE_VERSION,
  type Envelope,
  EnvelopeKind,
  MAX_ENVELOPE_BYTES,
  MAX_RECIPIENTS,
  Precedence,
} from './envelope.js';
import { isCanonicalBase64Url } from './primitives.js';

// The compact wire encoding of an envelope (PROTOCOL.md §9.5): the same fields as the JSON form,
// in a fixed order, byte strings raw instead of base64url, enums as one byte, integers as
// big-endian u64. It is only a spelling: decoding gives the one canonical `Envelope` object,
// which is what is stored, signed (over the canonical layout of §7, never over this) and checked.

/** How a connection carries envelopes: `json` (the default) or `compact` (§9.5). */
export const WireEncoding = z.enum(['json', 'compact']);
export type WireEncoding = z.infer<typeof WireEncoding>;

/** First byte of a compact envelope: the header version it carries. */
export const COMPACT_FORMAT = ENVELOPE_VERSION;
/** A compact envelope is never longer than the JSON form, whose limit is MAX_ENVELOPE_BYTES. */
export const MAX_COMPACT_ENVELOPE_BYTES = MAX_ENVELOPE_BYTES;

const KINDS = EnvelopeKind.options;
const PRECEDENCES = Precedence.options;
/** Office and device ids are ASCII and at most 80 characters (primitives.ts). */
const MAX_ID_CHARS = 80;
const MAX_OFFICES = 8;

/** A compact frame that is not one: the reason, for a VALIDATION_FAILED. */
export class CompactDecodeError extends Error {
  override readonly name = 'CompactDecodeError';
}

/** A Socket.IO binary attachment as it arrives: a Buffer/Uint8Array in Node, an ArrayBuffer in a browser. */
export const isWireBytes = (value: unknown): value is Uint8Array | ArrayBuffer =>
  value instanceof Uint8Array || value instanceof ArrayBuffer;

/**
 * The compact bytes of a valid envelope (check it against `Envelope` first: this throws a
 * TypeError on what the schema refuses, e.g. a non-canonical base64url field).
 *
 * @example socket.emit('envelope:send', encodeCompactEnvelope(envelope), ack);
 */
export function encodeCompactEnvelope(envelope: Envelope): Uint8Array {
  const { header, recipients } = envelope;
  const ciphertext = fromB64(envelope.ciphertext);
  const w = new Writer(256 + ciphertext.length + recipients.length * 200);
  w.u8(COMPACT_FORMAT);
  w.u8(indexOf(KINDS, header.kind));
  w.u8(header.precedence === undefined ? 0 : indexOf(PRECEDENCES, header.precedence) + 1);
  w.bytes(uuidBytes(header.id));
  w.str(header.sender.deviceId);
  w.fixed(header.sender.keyId, 16);
  w.count(header.to.length, MAX_OFFICES);
  for (const office of header.to) w.str(office);
  w.u64(header.createdAt);
  w.u64(header.counter);
  w.u64(header.directory.version);
  w.fixed(header.directory.hash, 32);
  w.fixed(header.keyCommitment, 32);
  w.fixed(envelope.nonce, 24);
  w.count(recipients.length, MAX_RECIPIENTS);
  for (const r of recipients) {
    w.u8(r.prekeyId === undefined ? 0 : 1);
    w.str(r.deviceId);
    w.fixed(r.keyId, 16);
    if (r.prekeyId !== undefined) w.fixed(r.prekeyId, 16);
    w.fixed(r.wrappedKey, 80);
  }
  w.fixed(envelope.signature, 64);
  w.u32(ciphertext.length);
  w.bytes(ciphertext);
  return w.done();
}

/**
 * The envelope object a compact frame spells, or CompactDecodeError saying where it is not one.
 * The result has the JSON form's shape; whether its values are valid (ids, sizes, the
 * precedence rule) is for `Envelope` to say, exactly as for an envelope that came as JSON.
 *
 * @example const envelope = parseEnvelope(decodeCompactEnvelope(bytes));
 */
export function decodeCompactEnvelope(input: Uint8Array | ArrayBuffer): Envelope {
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  if (bytes.length > MAX_COMPACT_ENVELOPE_BYTES)
    throw new CompactDecodeError(`longer than ${MAX_COMPACT_ENVELOPE_BYTES} bytes`);
  const r = new Reader(bytes);
  const format = r.u8('format');
  if (format !== COMPACT_FORMAT)
    throw new CompactDecodeError(`format byte ${format}, expected ${COMPACT_FORMAT}`);
  const kind = KINDS[r.u8('kind')];
  if (kind === undefined) throw new CompactDecodeError('kind byte out of range');
  const precedenceByte = r.u8('precedence');
  const precedence = precedenceByte === 0 ? undefined : PRECEDENCES[precedenceByte - 1];
  if (precedenceByte !== 0 && precedence === undefined)
    throw new CompactDecodeError('precedence byte out of range');
  const id = uuidText(r.bytes(16, 'id'));
  const sender = { deviceId: r.str('sender.deviceId'), keyId: r.b64(16, 'sender.keyId') };
  const to: string[] = [];
  for (let n = r.count(MAX_OFFICES, 'to'); n > 0; n--) to.push(r.str('to'));
  const createdAt = r.u64('createdAt');
  const counter = r.u64('counter');
  const directory = { version: r.u64('directory.version'), hash: r.b64(32, 'directory.hash') };
  const keyCommitment = r.b64(32, 'keyCommitment');
  const nonce = r.b64(24, 'nonce');
  const recipients: Envelope['recipients'] = [];
  for (let n = r.count(MAX_RECIPIENTS, 'recipients'); n > 0; n--) {
    const flags = r.u8('recipient flags');
    if (flags > 1) throw new CompactDecodeError('recipient flags other than 0 or 1');
    const deviceId = r.str('recipient.deviceId');
    const keyId = r.b64(16, 'recipient.keyId');
    const prekeyId = flags === 1 ? r.b64(16, 'recipient.prekeyId') : undefined;
    const wrappedKey = r.b64(80, 'recipient.wrappedKey');
    recipients.push(
      prekeyId === undefined
        ? { deviceId, keyId, wrappedKey }
        : { deviceId, keyId, prekeyId, wrappedKey },
    );
  }
  const signature = r.b64(64, 'signature');
  const ciphertext = r.b64(r.u32('ciphertext length'), 'ciphertext');
  if (!r.atEnd()) throw new CompactDecodeError('bytes after the ciphertext');
  const header: Envelope['header'] = {
    v: ENVELOPE_VERSION,
    id,
    kind,
    ...(precedence === undefined ? {} : { precedence }),
    sender,
    to,
    createdAt,
    counter,
    directory,
    keyCommitment,
  };
  return { header, nonce, ciphertext, recipients, signature };
}

function indexOf<T>(list: readonly T[], value: T): number {
  const at = list.indexOf(value);
  if (at < 0) throw new TypeError(`not encodable: ${String(value)}`);
  return at;
}

class Writer {
  private buffer: Uint8Array;
  private view: DataView;
  private at = 0;

  constructor(size: number) {
    this.buffer = new Uint8Array(size);
    this.view = new DataView(this.buffer.buffer);
  }

  private room(n: number) {
    if (this.at + n <= this.buffer.length) return;
    const grown = new Uint8Array(Math.max(this.buffer.length * 2, this.at + n));
    grown.set(this.buffer);
    this.buffer = grown;
    this.view = new DataView(grown.buffer);
  }

  u8(value: number) {
    this.room(1);
    this.buffer[this.at++] = value;
  }

  u32(value: number) {
    this.room(4);
    this.view.setUint32(this.at, value);
    this.at += 4;
  }

  u64(value: number) {
    if (!Number.isSafeInteger(value) || value < 0) throw new TypeError('not a u64 below 2^53');
    this.room(8);
    this.view.setUint32(this.at, Math.floor(value / 2 ** 32));
    this.view.setUint32(this.at + 4, value % 2 ** 32);
    this.at += 8;
  }

  count(value: number, max: number) {
    if (value > max) throw new TypeError(`more than ${max} entries`);
    this.u8(value);
  }

  bytes(value: Uint8Array) {
    this.room(value.length);
    this.buffer.set(value, this.at);
    this.at += value.length;
  }

  /** base64url text that must decode to exactly `length` bytes. */
  fixed(text: string, length: number) {
    const value = fromB64(text);
    if (value.length !== length) throw new TypeError(`expected ${length} bytes`);
    this.bytes(value);
  }

  /** An ASCII id: one byte of length, then the characters. */
  str(text: string) {
    if (text.length > MAX_ID_CHARS || !/^[\x20-\x7e]*$/.test(text))
      throw new TypeError('not a short ASCII id');
    this.u8(text.length);
    this.room(text.length);
    for (let i = 0; i < text.length; i++) this.buffer[this.at++] = text.charCodeAt(i);
  }

  done(): Uint8Array {
    return this.buffer.subarray(0, this.at);
  }
}

class Reader {
  private at = 0;
  private readonly view: DataView;

  constructor(private readonly buffer: Uint8Array) {
    this.view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  }

  private need(n: number, field: string) {
    if (this.at + n > this.buffer.length)
      throw new CompactDecodeError(
        `ends inside ${field} (byte ${this.at} of ${this.buffer.length})`,
      );
  }

  atEnd = () => this.at === this.buffer.length;

  u8(field: string): number {
    this.need(1, field);
    return this.buffer[this.at++] as number;
  }

  u32(field: string): number {
    this.need(4, field);
    const value = this.view.getUint32(this.at);
    this.at += 4;
    return value;
  }

  u64(field: string): number {
    this.need(8, field);
    const high = this.view.getUint32(this.at);
    const low = this.view.getUint32(this.at + 4);
    this.at += 8;
    if (high >= 2 ** 21) throw new CompactDecodeError(`${field} is 2^53 or more`);
    return high * 2 ** 32 + low;
  }

  count(max: number, field: string): number {
    const n = this.u8(`${field} count`);
    if (n > max) throw new CompactDecodeError(`${field}: ${n} entries, at most ${max}`);
    return n;
  }

  bytes(n: number, field: string): Uint8Array {
    this.need(n, field);
    const out = this.buffer.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  b64(n: number, field: string): string {
    return toB64(this.bytes(n, field));
  }

  str(field: string): string {
    const n = this.u8(`${field} length`);
    if (n > MAX_ID_CHARS) throw new CompactDecodeError(`${field} longer than ${MAX_ID_CHARS}`);
    let text = '';
    for (const byte of this.bytes(n, field)) {
      if (byte < 0x20 || byte > 0x7e) throw new CompactDecodeError(`${field} is not ASCII`);
      text += String.fromCharCode(byte);
    }
    return text;
  }
}

const HEX = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function uuidBytes(id: string): Uint8Array {
  if (!HEX.test(id)) throw new TypeError('not a lower-case UUID');
  const hex = id.replaceAll('-', '');
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function uuidText(bytes: Uint8Array): string {
  let hex = '';
  for (const byte of bytes) hex += byte.toString(16).padStart(2, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// Unpadded base64url (RFC 4648 §5): Node's Buffer where there is one (native, many times faster),
// else plain code, so the browser SDK needs neither Buffer nor WebAssembly.
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const CODES = Uint8Array.from(ALPHABET, (c) => c.charCodeAt(0));
const VALUES = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUES[ALPHABET.charCodeAt(i)] = i;
type NodeBuffer = {
  from(bytes: ArrayBufferLike, offset: number, length: number): { toString(e: string): string };
  from(text: string, encoding: string): Uint8Array;
};
const NodeBuffer = (globalThis as { Buffer?: NodeBuffer }).Buffer;

function toB64(bytes: Uint8Array): string {
  return NodeBuffer
    ? NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64url')
    : portableBase64Url.encode(bytes);
}

/** Canonical unpadded base64url only: anything else is a TypeError (the schema refuses it too). */
function fromB64(text: string): Uint8Array {
  if (!isCanonicalBase64Url(text)) throw new TypeError('not canonical base64url');
  return NodeBuffer ? NodeBuffer.from(text, 'base64url') : portableBase64Url.decode(text);
}

/** Without Buffer (a browser). Exported for the test that keeps it equal to Buffer's. */
export const portableBase64Url = {
  encode: (bytes: Uint8Array) => portableEncode(bytes),
  decode: (text: string) => portableDecode(text),
};

function portableEncode(bytes: Uint8Array): string {
  const out = new Uint8Array(Math.ceil((bytes.length * 4) / 3));
  let at = 0;
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n =
      ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8) | (bytes[i + 2] as number);
    out[at++] = CODES[n >> 18] as number;
    out[at++] = CODES[(n >> 12) & 63] as number;
    out[at++] = CODES[(n >> 6) & 63] as number;
    out[at++] = CODES[n & 63] as number;
  }
  const left = bytes.length - i;
  if (left > 0) {
    const n = ((bytes[i] as number) << 16) | (left === 2 ? (bytes[i + 1] as number) << 8 : 0);
    out[at++] = CODES[n >> 18] as number;
    out[at++] = CODES[(n >> 12) & 63] as number;
    if (left === 2) out[at++] = CODES[(n >> 6) & 63] as number;
  }
  let text = '';
  for (let from = 0; from < out.length; from += 8192)
    text += String.fromCharCode(...out.subarray(from, from + 8192));
  return text;
}

/** The bytes of canonical base64url text (checked before: every character is in the alphabet). */
function portableDecode(text: string): Uint8Array {
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let bits = 0;
  let value = 0;
  let at = 0;
  for (let i = 0; i < text.length; i++) {
    value = ((value & 0xff) << 6) | (VALUES[text.charCodeAt(i)] as number);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = (value >> bits) & 0xff;
    }
  }
  return out;
}
