import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { Envelope } from '../../protocol/v1/envelope.js';
import { isEnvelope, parseEnvelope } from '../../src/envelope/parse.js';
import { sealEnvelope } from '../../src/envelope/seal.js';
import { isLiaisonError } from '../../src/errors.js';
import { BASE64URL } from '../fixtures/forge.js';
import { buildWorld, device, NOW } from '../fixtures/world.js';

// The gateway's hand-written envelope check against the schema, the one definition: for every
// input either both accept it or both refuse it. Inputs start from real envelopes and are bent the
// way a fuzzer would, field by field, so most land near the schema's edges, not in random noise.

let chat: Envelope;
let alert: Envelope;

beforeAll(async () => {
  const world = await buildWorld();
  const base = {
    sender: device(world, 'KZ-KORDAI/desk-1'),
    to: ['KG-AKZHOL'],
    recipients: world.directory.recipientKeys(['KG-AKZHOL'], NOW),
    createdAt: NOW,
    counter: 7,
    directory: world.directory.head,
  };
  chat = await sealEnvelope({ ...base, body: { type: 'chat', text: 'Two lorries at the gate' } });
  alert = await sealEnvelope({
    ...base,
    body: {
      type: 'alert',
      category: 'suspicious-vehicle',
      precedence: 'FLASH',
      title: 'Grey Kamaz',
      description: 'False floor suspected.',
      location: { bcp: 'Kordai' },
      subjects: [],
      validFrom: NOW,
      validUntil: NOW + 1,
    },
  });
});

const b64char = fc.constantFrom(...BASE64URL.split(''));
const DROP = Symbol('drop');
/** Mostly the sealed value, sometimes one of `edges`, now and then missing or anything at all. */
const field = (valid: unknown, ...edges: fc.Arbitrary<unknown>[]) =>
  fc.oneof(
    { weight: 40, arbitrary: fc.constant(valid) },
    ...edges.map((arbitrary) => ({ weight: 1, arbitrary })),
    { weight: 1, arbitrary: fc.oneof(fc.anything({ maxDepth: 1 }), fc.constant(DROP)) },
  );
/** An object of these fields, once in a while with a key the schema does not know. */
const object = (fields: Record<string, fc.Arbitrary<unknown>>) =>
  fc
    .tuple(
      fc.record(fields),
      fc.oneof(
        { weight: 30, arbitrary: fc.constant(DROP) },
        { weight: 1, arbitrary: fc.anything({ maxDepth: 0 }) },
      ),
    )
    .map(([record, extra]) => {
      const out: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(record)) if (value !== DROP) out[key] = value;
      if (extra !== DROP) out.extra = extra;
      return out;
    });

/** Mostly what `arbitrary` makes; now and then anything at all, or nothing. */
const sometimesAnything = (arbitrary: fc.Arbitrary<unknown>) =>
  fc.oneof(
    { weight: 14, arbitrary },
    { weight: 1, arbitrary: fc.oneof(fc.anything({ maxDepth: 1 }), fc.constant(DROP)) },
  );

/** base64url text around `length` characters: exact, one off, stray characters, unused bits set. */
const base64Near = (length: number) =>
  fc.oneof(
    fc.string({ unit: b64char, minLength: length, maxLength: length }),
    fc
      .constantFrom(length - 1, length + 1)
      .chain((n) =>
        fc.string({ unit: b64char, minLength: Math.max(0, n), maxLength: Math.max(0, n) }),
      ),
    fc
      .tuple(
        fc.string({ unit: b64char, minLength: length - 1, maxLength: length - 1 }),
        fc.constantFrom('=', '+', '/', ' ', 'é', 'B', 'Q'),
      )
      .map(([head, last]) => head + last),
  );
const officeOfLength = (n: number) => `KZ-${'A'.repeat(n - 3)}`;
const officeNear = fc.oneof(
  fc.constantFrom(
    officeOfLength(40),
    officeOfLength(41),
    'CARICC',
    'KG-AKZHOL-2',
    'kz-kordai',
    'XX-A',
    'KZ-',
    'KZ-A-',
    'KG-A--B',
  ),
  fc.string({ unit: fc.constantFrom('K', 'Z', 'G', '-', 'A', '1'), maxLength: 12 }),
);
const deviceOfLength = (n: number) => `KZ-KORDAI/${'a'.repeat(n - 10)}`;
const deviceNear = fc.oneof(
  fc.constantFrom(
    `${officeOfLength(40)}/${'d'.repeat(32)}`,
    `${officeOfLength(47)}/${'d'.repeat(32)}`,
    `${officeOfLength(48)}/${'d'.repeat(32)}`,
    deviceOfLength(42),
    deviceOfLength(43),
    'KZ-KORDAI/-x',
    'KZ-KORDAI/Desk',
    'KZ-KORDAI',
    'CARICC/hub',
  ),
  fc.string({ unit: fc.constantFrom('K', 'Z', '-', 'A', '/', 'a', '1'), maxLength: 14 }),
);
const uuidNear = fc.oneof(
  fc.uuid(),
  fc.uuid().map((u) => u.toUpperCase()),
  fc.uuid().map((u) => u.slice(1)),
);
const timeNear = fc.constantFrom(
  0,
  -0,
  -1,
  8.64e15,
  8.64e15 + 1,
  NOW + 0.5,
  Number.NaN,
  Number.MAX_SAFE_INTEGER,
  `${NOW}`,
);
const countNear = fc.constantFrom(0, 1, -1, 2.5, Number.MAX_SAFE_INTEGER, 2 ** 53, '1', Number.NaN);
const officesNear = fc.oneof(
  fc.constantFrom(0, 1, 8, 9).map((n) => Array.from({ length: n }, (_, i) => `KG-A${i}`)),
  fc.constant(['KG-AKZHOL', 'KG-AKZHOL']),
  fc.array(officeNear, { minLength: 1, maxLength: 2 }),
);

const headerLike = (e: Envelope) =>
  object({
    v: field(e.header.v, fc.constantFrom(1, 3, '2', 2.5)),
    id: field(e.header.id, uuidNear),
    kind: field(
      e.header.kind,
      fc.constantFrom('chat', 'alert', 'receipt', 'alert-ack', 'Chat', ''),
    ),
    ...(e.header.precedence
      ? { precedence: field(e.header.precedence, fc.constantFrom('IMMEDIATE', 'ROUTINE', 'flash')) }
      : {}),
    ...(e.header.precedence
      ? {}
      : { precedence: field(DROP, fc.constantFrom('FLASH', undefined)) }),
    sender: sometimesAnything(
      object({
        deviceId: field(e.header.sender.deviceId, deviceNear),
        keyId: field(e.header.sender.keyId, base64Near(22)),
      }),
    ),
    to: field(e.header.to, officesNear),
    createdAt: field(e.header.createdAt, timeNear),
    counter: field(e.header.counter, countNear),
    directory: sometimesAnything(
      object({
        version: field(e.header.directory.version, countNear),
        hash: field(e.header.directory.hash, base64Near(43)),
      }),
    ),
    keyCommitment: field(e.header.keyCommitment, base64Near(43)),
  });

const recipientLike = (r: Envelope['recipients'][number]) =>
  object({
    deviceId: field(r.deviceId, deviceNear),
    keyId: field(r.keyId, base64Near(22)),
    // Optional: sealed to a prekey, or (absent) to the certified key.
    prekeyId: field(
      r.prekeyId ?? r.keyId,
      base64Near(22),
      fc.constant(undefined),
      fc.constant(DROP),
    ),
    wrappedKey: field(r.wrappedKey, base64Near(107)),
  });

const many = (e: Envelope, n: number) =>
  Array.from({ length: n }, (_, i) => ({ ...e.recipients[0], deviceId: `KG-A/d-${i}` }));

const envelopeLike = fc.constantFrom('chat', 'alert').chain((which) => {
  const e = which === 'chat' ? chat : alert;
  return object({
    header: sometimesAnything(headerLike(e)),
    nonce: field(e.nonce, base64Near(32)),
    ciphertext: field(
      e.ciphertext,
      base64Near(22),
      fc.constantFrom('A'.repeat(20), 'A'.repeat(87_382), 'A'.repeat(87_383), 'A'.repeat(87_384)),
    ),
    recipients: fc.oneof(
      { weight: 8, arbitrary: fc.tuple(...e.recipients.map(recipientLike)) },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          [],
          [e.recipients[0]],
          [...e.recipients, e.recipients[0]],
          many(e, 64),
          many(e, 65),
        ),
      },
    ),
    signature: field(e.signature, base64Near(86)),
  });
});

describe('the fast envelope check', () => {
  it('accepts and refuses exactly what the schema accepts and refuses', () => {
    let accepted = 0;
    let refused = 0;
    fc.assert(
      fc.property(envelopeLike, (input) => {
        const schema = Envelope.safeParse(input);
        expect(isEnvelope(input)).toBe(schema.success);
        if (schema.success) {
          accepted++;
          expect(parseEnvelope(input)).toEqual(schema.data);
        } else refused++;
      }),
      { numRuns: 2000 },
    );
    // The generator must reach both sides, or the property proves nothing.
    expect(accepted).toBeGreaterThan(200);
    expect(refused).toBeGreaterThan(1000);
    // A few thousand generated envelopes, each through zod: seconds, more on a busy machine.
  }, 120_000);

  it('passes the envelopes a client seals, as they are', () => {
    expect(parseEnvelope(chat)).toBe(chat);
    expect(parseEnvelope(alert)).toBe(alert);
  });

  it('explains a refusal in the schema’s words, with ENVELOPE_INVALID', () => {
    const bad = { ...chat, nonce: 'short' };
    let error: unknown;
    try {
      parseEnvelope(bad);
    } catch (e) {
      error = e;
    }
    expect(isLiaisonError(error) && error.code).toBe('ENVELOPE_INVALID');
    const issues = (error as { details?: { issues: string[] } }).details?.issues ?? [];
    expect(issues.some((issue) => issue.startsWith('nonce:'))).toBe(true);
  });
});
