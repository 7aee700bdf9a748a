import { z } from 'zod';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * True for the one canonical unpadded base64url spelling of some bytes: a length that is not 1
 * mod 4, and zero bits in what the last character carries beyond the data. Decoders differ in
 * what else they accept, so the schema refuses it; each byte string then has exactly one form.
 */
export function isCanonicalBase64Url(text: string): boolean {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return false;
  const tail = text.length % 4;
  if (tail === 1) return false;
  if (tail === 0) return true;
  const last = ALPHABET.indexOf(text[text.length - 1] as string);
  return (last & (tail === 2 ? 0x0f : 0x03)) === 0;
}

/** Unpadded base64url (RFC 4648 §5), canonical — how every byte string travels in JSON. */
export const Base64Url = z
  .string()
  .regex(/^[A-Za-z0-9_-]*$/, 'unpadded base64url')
  .refine(isCanonicalBase64Url, 'canonical unpadded base64url');

/** A base64url string that decodes to exactly `bytes` bytes. */
export const base64UrlOf = (bytes: number) =>
  Base64Url.length(Math.ceil((bytes * 4) / 3)).describe(`${bytes} bytes, unpadded base64url`);

/** Milliseconds since the Unix epoch, UTC. */
export const Timestamp = z.int().min(0).max(8_640_000_000_000_000).describe('ms since Unix epoch');

/** ISO 3166-1 alpha-2 codes of the countries on the channel. */
export const Country = z.enum(['KZ', 'KG', 'TJ', 'UZ', 'TM', 'AF']);
export type Country = z.infer<typeof Country>;

/** The hub's office id: CARICC, Almaty. */
export const HUB_OFFICE_ID = 'CARICC';

/** `KZ-KORDAI`: the country code, a dash, then the crossing point's name. Or `CARICC`. */
export const OfficeId = z
  .string()
  .max(40)
  .regex(/^(?:(?:KZ|KG|TJ|UZ|TM|AF)-[A-Z0-9]+(?:-[A-Z0-9]+)*|CARICC)$/, 'office id like KZ-KORDAI');
export type OfficeId = z.infer<typeof OfficeId>;

/** `KZ-KORDAI/desk-1`: the office id, a slash, then a lower-case label unique in the office. */
export const DeviceId = z
  .string()
  .max(80)
  .regex(
    /^(?:(?:KZ|KG|TJ|UZ|TM|AF)-[A-Z0-9]+(?:-[A-Z0-9]+)*|CARICC)\/[a-z0-9][a-z0-9-]{0,31}$/,
    'device id like KZ-KORDAI/desk-1',
  );
export type DeviceId = z.infer<typeof DeviceId>;

/** The office part of a device id. */
export const officeOfDevice = (deviceId: string): string =>
  deviceId.slice(0, deviceId.indexOf('/'));

/** 16 bytes derived from a device's two public keys (see PROTOCOL.md §Key ids). */
export const KeyId = base64UrlOf(16);

/** Envelope and statement ids: a lower-case RFC 9562 UUID. */
export const Uuid = z
  .string()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'lower-case UUID');

/** Ed25519 public key (32 bytes), X25519 public key (32 bytes), Ed25519 signature (64 bytes). */
export const Ed25519PublicKey = base64UrlOf(32);
export const X25519PublicKey = base64UrlOf(32);
export const Ed25519Signature = base64UrlOf(64);

/** An error as it crosses the wire: a stable code from protocol/errors.ts. */
export const WireError = z.strictObject({
  code: z.string().regex(/^[A-Z_]+$/),
  message: z.string().max(500),
  details: z.record(z.string(), z.unknown()).optional(),
});
export type WireError = z.infer<typeof WireError>;
