import { CompactDecodeError, decodeCompactEnvelope } from '../../protocol/v1/compact.js';
import {
  ENVELOPE_VERSION,
  Envelope,
  MAX_COUNTER,
  MAX_ENVELOPE_BYTES,
  MAX_RECIPIENTS,
} from '../../protocol/v1/envelope.js';
import { isCanonicalBase64Url } from '../../protocol/v1/primitives.js';
import { rejectOtherVersions } from '../crypto/signed.js';
import { issuesOf, LiaisonError } from '../errors.js';

// The envelope schema (protocol/v1/envelope.ts) is the one definition; zod checking it costs more
// than everything else the gateway does with an envelope. This is the same check written by
// hand for the hot path. test/envelope/parse.test.ts proves, property-based, that the two accept
// and refuse exactly the same inputs; when the schema changes, that test fails until this does.
// A refusal is always explained by zod, so the error a sender reads comes from the schema.

const OFFICE = /^(?:(?:KZ|KG|TJ|UZ|TM|AF)-[A-Z0-9]+(?:-[A-Z0-9]+)*|CARICC)$/;
const DEVICE =
  /^(?:(?:KZ|KG|TJ|UZ|TM|AF)-[A-Z0-9]+(?:-[A-Z0-9]+)*|CARICC)\/[a-z0-9][a-z0-9-]{0,31}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const KINDS = new Set(['chat', 'alert', 'receipt', 'alert-ack']);
const PRECEDENCES = new Set(['FLASH', 'IMMEDIATE', 'PRIORITY', 'ROUTINE']);
const MAX_CIPHERTEXT_CHARS = Math.ceil((MAX_ENVELOPE_BYTES * 4) / 3);

/** base64url text of `bytes` bytes. */
const chars = (bytes: number) => Math.ceil((bytes * 4) / 3);

type Json = Record<string, unknown>;

const isRecord = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Only these keys (a strict object); `optional` ones may be absent. */
function hasKeys(value: Json, required: readonly string[], optional: readonly string[] = []) {
  let present = 0;
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    if (required.includes(key)) present++;
    else if (!optional.includes(key)) return false;
  }
  return present === required.length;
}

const base64Of = (value: unknown, length: number) =>
  typeof value === 'string' && value.length === length && isCanonicalBase64Url(value);
const deviceId = (value: unknown) =>
  typeof value === 'string' && value.length <= 80 && DEVICE.test(value);
const officeId = (value: unknown) =>
  typeof value === 'string' && value.length <= 40 && OFFICE.test(value);
const timestamp = (value: unknown) =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= 8.64e15;

const count = (value: unknown, min: number, max: number) =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max;

function isDirectoryPosition(position: unknown): boolean {
  return (
    isRecord(position) &&
    hasKeys(position, ['version', 'hash']) &&
    count(position.version, 0, Number.MAX_SAFE_INTEGER) &&
    base64Of(position.hash, chars(32))
  );
}

function isHeader(header: unknown): boolean {
  if (!isRecord(header)) return false;
  if (
    !hasKeys(
      header,
      ['v', 'id', 'kind', 'sender', 'to', 'createdAt', 'counter', 'directory', 'keyCommitment'],
      ['precedence'],
    )
  )
    return false;
  const { v, id, kind, precedence, sender, to, createdAt, counter, directory, keyCommitment } =
    header;
  if (v !== ENVELOPE_VERSION || typeof id !== 'string' || !UUID.test(id)) return false;
  if (typeof kind !== 'string' || !KINDS.has(kind)) return false;
  if (precedence !== undefined && (typeof precedence !== 'string' || !PRECEDENCES.has(precedence)))
    return false;
  if ((kind === 'alert') !== (precedence !== undefined)) return false;
  if (!isRecord(sender) || !hasKeys(sender, ['deviceId', 'keyId'])) return false;
  if (!deviceId(sender.deviceId) || !base64Of(sender.keyId, chars(16))) return false;
  if (!Array.isArray(to) || to.length < 1 || to.length > 8 || !to.every(officeId)) return false;
  if (new Set(to).size !== to.length) return false;
  if (!count(counter, 1, MAX_COUNTER) || !isDirectoryPosition(directory)) return false;
  return timestamp(createdAt) && base64Of(keyCommitment, chars(32));
}

function isWrappedKey(entry: unknown): boolean {
  return (
    isRecord(entry) &&
    hasKeys(entry, ['deviceId', 'keyId', 'wrappedKey'], ['prekeyId']) &&
    deviceId(entry.deviceId) &&
    base64Of(entry.keyId, chars(16)) &&
    (entry.prekeyId === undefined || base64Of(entry.prekeyId, chars(16))) &&
    base64Of(entry.wrappedKey, chars(80))
  );
}

/** Exactly what `Envelope.safeParse(input).success` says, without zod. */
export function isEnvelope(input: unknown): input is Envelope {
  if (
    !isRecord(input) ||
    !hasKeys(input, ['header', 'nonce', 'ciphertext', 'recipients', 'signature'])
  )
    return false;
  const { header, nonce, ciphertext, recipients, signature } = input;
  if (!isHeader(header) || !base64Of(nonce, chars(24)) || !base64Of(signature, chars(64)))
    return false;
  if (
    typeof ciphertext !== 'string' ||
    ciphertext.length < 22 ||
    ciphertext.length > MAX_CIPHERTEXT_CHARS ||
    !isCanonicalBase64Url(ciphertext)
  )
    return false;
  if (!Array.isArray(recipients) || recipients.length < 1 || recipients.length > MAX_RECIPIENTS)
    return false;
  if (!recipients.every(isWrappedKey)) return false;
  return new Set(recipients.map((r: Json) => r.deviceId)).size === recipients.length;
}

/**
 * The envelope, when `input` is one (checked by hand); otherwise ENVELOPE_INVALID with zod's
 * account of what is wrong. An accepted envelope is the input itself, not a copy.
 */
export function parseEnvelope(input: unknown): Envelope {
  if (isEnvelope(input)) return input;
  const parsed = Envelope.safeParse(input);
  // The property test keeps this from happening; were it to, the schema decides.
  if (parsed.success) return parsed.data;
  throw new LiaisonError('ENVELOPE_INVALID', undefined, issuesOf(parsed.error));
}

/**
 * The object compact bytes spell (PROTOCOL.md §9.5), not yet checked against the schema (check it
 * with `parseEnvelope`, as a JSON envelope). Bytes that spell none are VALIDATION_FAILED saying
 * where; a first byte other than the header version is UNSUPPORTED_VERSION, as a JSON `v`.
 */
export function decodeCompact(input: Uint8Array | ArrayBuffer): unknown {
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  if (bytes.length > 0) rejectOtherVersions({ v: bytes[0] }, ENVELOPE_VERSION);
  try {
    return decodeCompactEnvelope(input);
  } catch (error) {
    if (!(error instanceof CompactDecodeError)) throw error;
    throw new LiaisonError('VALIDATION_FAILED', `not a compact envelope: ${error.message}`);
  }
}
