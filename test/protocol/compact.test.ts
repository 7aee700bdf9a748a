import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CompactDecodeError,
  decodeCompactEnvelope,
  encodeCompactEnvelope,
  isWireBytes,
  MAX_COMPACT_ENVELOPE_BYTES,
  portableBase64Url,
} from '../../protocol/v1/compact.js';
import { Envelope, MAX_COUNTER } from '../../protocol/v1/envelope.js';
import { decodeCompact, parseEnvelope } from '../../src/envelope/parse.js';
import { isLiaisonError } from '../../src/errors.js';

// The compact encoding (PROTOCOL.md §9.5) is a second spelling of the one envelope: for every
// valid envelope, JSON → compact → JSON gives it back exactly, key order included (so what the
// gateway stores is the same text), and compact → JSON → compact gives the same bytes.

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
const bytesOf = (n: number) => fc.uint8Array({ minLength: n, maxLength: n }).map(b64);
const upper = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'.split(''));
const office = fc.oneof(
  fc.constant('CARICC'),
  fc
    .tuple(
      fc.constantFrom('KZ', 'KG', 'TJ', 'UZ', 'TM', 'AF'),
      fc.array(fc.string({ unit: upper, minLength: 1, maxLength: 8 }), {
        minLength: 1,
        maxLength: 3,
      }),
    )
    .map(([country, parts]) => `${country}-${parts.join('-')}`),
);
const label = fc
  .tuple(
    fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789'.split('')),
    fc.string({
      unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-'.split('')),
      maxLength: 31,
    }),
  )
  .map(([first, rest]) => first + rest);
const deviceId = fc.tuple(office, label).map(([o, l]) => `${o}/${l}`);
const recipient = fc.record(
  {
    deviceId,
    keyId: bytesOf(16),
    prekeyId: bytesOf(16),
    wrappedKey: bytesOf(80),
  },
  { requiredKeys: ['deviceId', 'keyId', 'wrappedKey'] },
);
const header = fc
  .record({
    id: fc.uuid(),
    kind: fc.constantFrom('chat', 'alert', 'receipt', 'alert-ack'),
    precedence: fc.constantFrom('FLASH', 'IMMEDIATE', 'PRIORITY', 'ROUTINE'),
    sender: fc.record({ deviceId, keyId: bytesOf(16) }),
    to: fc.uniqueArray(office, { minLength: 1, maxLength: 8 }),
    createdAt: fc.oneof(fc.constantFrom(0, 8_640_000_000_000_000), fc.nat({ max: 2 ** 48 })),
    counter: fc.oneof(fc.constantFrom(1, MAX_COUNTER), fc.integer({ min: 1, max: 2 ** 40 })),
    directory: fc.record({
      version: fc.oneof(fc.constantFrom(0, Number.MAX_SAFE_INTEGER), fc.nat()),
      hash: bytesOf(32),
    }),
    keyCommitment: bytesOf(32),
  })
  // Key order as sealEnvelope writes it: the decoder's order, so the texts compare.
  .map(({ id, kind, precedence, sender, to, createdAt, counter, directory, keyCommitment }) => ({
    v: 4 as const,
    id,
    kind,
    ...(kind === 'alert' ? { precedence } : {}),
    sender,
    to,
    createdAt,
    counter,
    directory,
    keyCommitment,
  }));
const ordered = (r: { deviceId: string; keyId: string; prekeyId?: string; wrappedKey: string }) =>
  r.prekeyId === undefined
    ? { deviceId: r.deviceId, keyId: r.keyId, wrappedKey: r.wrappedKey }
    : { deviceId: r.deviceId, keyId: r.keyId, prekeyId: r.prekeyId, wrappedKey: r.wrappedKey };
const envelope = fc
  .record({
    header,
    nonce: bytesOf(24),
    ciphertext: fc.uint8Array({ minLength: 16, maxLength: 3000 }).map(b64),
    recipients: fc
      .uniqueArray(recipient, {
        minLength: 1,
        maxLength: 64,
        selector: (r) => r.deviceId,
      })
      .map((list) => list.map(ordered)),
    signature: bytesOf(64),
  })
  .filter((e) => Envelope.safeParse(e).success) as fc.Arbitrary<Envelope>;

describe('compact envelope encoding', () => {
  it('gives back every valid envelope exactly, and the same bytes from what it gives back', () => {
    fc.assert(
      fc.property(envelope, (e) => {
        const bytes = encodeCompactEnvelope(e);
        const back = decodeCompactEnvelope(bytes);
        expect(JSON.stringify(back)).toBe(JSON.stringify(e));
        expect(Envelope.parse(back)).toEqual(e);
        expect(encodeCompactEnvelope(back)).toEqual(bytes);
        // Raw bytes instead of base64url: never longer than the JSON form.
        expect(bytes.length).toBeLessThan(Buffer.byteLength(JSON.stringify(e)));
      }),
      { numRuns: 300 },
    );
  });

  it('is laid out field by field as PROTOCOL.md §9.5 says: its length follows from the fields', () => {
    fc.assert(
      fc.property(envelope, (e) => {
        const h = e.header;
        const ids = (list: string[]) => list.reduce((n, s) => n + 1 + s.length, 0);
        const wraps = e.recipients.reduce(
          (n, r) => n + 1 + 1 + r.deviceId.length + 16 + (r.prekeyId ? 16 : 0) + 80,
          0,
        );
        const ciphertext = Buffer.from(e.ciphertext, 'base64url');
        const expected =
          3 +
          16 +
          ids([h.sender.deviceId]) +
          16 +
          1 +
          ids(h.to) +
          3 * 8 +
          32 +
          32 +
          24 +
          1 +
          wraps +
          64 +
          4 +
          ciphertext.length;
        const bytes = Buffer.from(encodeCompactEnvelope(e));
        expect(bytes.length).toBe(expected);
        // The ciphertext closes the frame, raw, after its big-endian length.
        expect(bytes.readUInt32BE(bytes.length - ciphertext.length - 4)).toBe(ciphertext.length);
        expect(bytes.subarray(bytes.length - ciphertext.length).equals(ciphertext)).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it('refuses every cut, a byte too many and a bent byte with a reason, never anything else', () => {
    fc.assert(
      fc.property(envelope, fc.nat(), fc.nat({ max: 255 }), (e, at, value) => {
        const bytes = encodeCompactEnvelope(e);
        const cut = at % bytes.length;
        expect(() => decodeCompactEnvelope(bytes.subarray(0, cut))).toThrow(CompactDecodeError);
        const longer = new Uint8Array([...bytes, value]);
        expect(() => decodeCompactEnvelope(longer)).toThrow(CompactDecodeError);
        const bent = bytes.slice();
        bent[cut] = value;
        try {
          // What decodes is checked by the schema like any JSON envelope: valid or refused.
          Envelope.safeParse(decodeCompactEnvelope(bent));
        } catch (error) {
          expect(error).toBeInstanceOf(CompactDecodeError);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('answers bytes that are not an envelope with VALIDATION_FAILED, another version with UNSUPPORTED_VERSION, a bad envelope with ENVELOPE_INVALID', () => {
    const code = (input: unknown) => {
      try {
        parseEnvelope(isWireBytes(input) ? decodeCompact(input) : input);
        return 'accepted';
      } catch (error) {
        return isLiaisonError(error) ? error.code : String(error);
      }
    };
    expect(code(new Uint8Array(0))).toBe('VALIDATION_FAILED');
    expect(code(new Uint8Array([4, 0, 0]))).toBe('VALIDATION_FAILED');
    expect(code(new Uint8Array([3, 0, 0]))).toBe('UNSUPPORTED_VERSION');
    expect(code(new Uint8Array(MAX_COMPACT_ENVELOPE_BYTES + 1).fill(4))).toBe('VALIDATION_FAILED');
    expect(code(new Uint8Array([4, 9, 0]).buffer)).toBe('VALIDATION_FAILED');
    const sample = fc.sample(envelope, { numRuns: 1, seed: 17 })[0] as Envelope;
    const bytes = encodeCompactEnvelope(sample);
    expect(code(bytes)).toBe('accepted');
    expect(code(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length))).toBe(
      'accepted',
    );
    // A device id that is ASCII but not a device id: shaped right, refused by the schema.
    const bad = encodeCompactEnvelope({
      ...sample,
      header: { ...sample.header, sender: { ...sample.header.sender, deviceId: 'KZ-A/Desk' } },
    });
    expect(code(bad)).toBe('ENVELOPE_INVALID');
  });
});

describe('the codec without Buffer (a browser)', () => {
  it('spells and reads base64url exactly as Buffer does', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const text = Buffer.from(bytes).toString('base64url');
        expect(portableBase64Url.encode(bytes)).toBe(text);
        expect(portableBase64Url.decode(text)).toEqual(bytes);
      }),
      { numRuns: 500 },
    );
  });
});

describe('PROTOCOL.md §9.5 for an outsider', () => {
  it('its Python decoder reads the compact vector back to the JSON envelopes, key order included', async () => {
    const protocol = join(import.meta.dirname, '..', '..', 'protocol');
    const text = await readFile(join(protocol, 'PROTOCOL.md'), 'utf8');
    const start = text.indexOf('```python\nimport base64, struct\n\ndef decode_compact');
    expect(start).toBeGreaterThan(0);
    const code = text.slice(start + '```python\n'.length, text.indexOf('```\n', start + 10));
    const check = `${code}
import json, sys
vector = json.load(open(sys.argv[1]))
for item in vector["items"]:
    decoded = decode_compact(bytes.fromhex(item["compactHex"]))
    print(json.dumps(decoded, separators=(",", ":"), ensure_ascii=False))
`;
    const { stdout } = await promisify(execFile)('python3', [
      '-c',
      check,
      join(protocol, 'vectors', 'envelope-compact.json'),
    ]);
    const vector = JSON.parse(
      await readFile(join(protocol, 'vectors', 'envelope-compact.json'), 'utf8'),
    );
    expect(stdout.trim().split('\n')).toEqual(
      vector.items.map((i: { envelope: unknown }) => JSON.stringify(i.envelope)),
    );
  });
});
