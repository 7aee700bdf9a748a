import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Envelope } from '../../protocol/v1/envelope.js';
import { openEnvelope } from '../../src/envelope/open.js';
import { sealEnvelope } from '../../src/envelope/seal.js';
import { BASE64URL, flipBit, rejectionCode } from '../fixtures/forge.js';
import { buildWorld, device, NOW, type World } from '../fixtures/world.js';

let world: World;
let envelope: Envelope;

beforeAll(async () => {
  world = await buildWorld();
  envelope = await sealEnvelope({
    sender: device(world, 'KZ-KORDAI/desk-1'),
    to: ['KG-AKZHOL'],
    body: { type: 'chat', text: 'Two lorries waiting at the Kazakh side' },
    recipients: world.directory.recipientKeys(['KG-AKZHOL'], NOW),
    counter: 1,
    directory: world.directory.head,
    createdAt: NOW,
  });
});

const open = (input: unknown) =>
  openEnvelope(input, device(world, 'KG-AKZHOL/desk-1'), world.directory, NOW);

/** A bit flip somewhere in a signed part of the envelope, and the codes it may be refused with. */
type Mutation = { readonly apply: (e: Envelope) => unknown; readonly codes: readonly string[] };

const bytesMutation = fc
  .record({
    part: fc.constantFrom('nonce', 'ciphertext', 'signature', 'wrappedKey'),
    recipient: fc.nat(),
    bit: fc.nat(),
  })
  .map(
    ({ part, recipient, bit }): Mutation => ({
      codes: ['SIGNATURE_INVALID'],
      apply: (e) => {
        if (part !== 'wrappedKey') return { ...e, [part]: flipBit(e[part], bit) };
        const index = recipient % e.recipients.length;
        const recipients = e.recipients.map((r, i) =>
          i === index ? { ...r, wrappedKey: flipBit(r.wrappedKey, bit) } : r,
        );
        return { ...e, recipients };
      },
    }),
  );

const createdAtMutation = fc.integer({ min: 0, max: 52 }).map(
  (bit): Mutation => ({
    // Earlier than the sender's certificate, too far ahead, or simply not what was signed.
    codes: ['SIGNATURE_INVALID', 'CERT_NOT_YET_VALID', 'ENVELOPE_INVALID'],
    apply: (e) => ({
      ...e,
      header: { ...e.header, createdAt: Number(BigInt(e.header.createdAt) ^ (1n << BigInt(bit))) },
    }),
  }),
);

describe('envelope properties', () => {
  it('any chat text arrives exactly as it was written', async () => {
    const text = fc.string({ unit: 'binary', minLength: 1, maxLength: 2000 });
    await fc.assert(
      fc.asyncProperty(text, async (text) => {
        const sealed = await sealEnvelope({
          sender: device(world, 'KZ-KORDAI/desk-1'),
          to: ['KG-AKZHOL'],
          body: { type: 'chat', text },
          recipients: world.directory.recipientKeys(['KG-AKZHOL'], NOW),
          counter: 1,
          directory: world.directory.head,
          createdAt: NOW,
        });
        const opened = await open(sealed);
        expect(opened.body).toEqual({ type: 'chat', text });
      }),
      { numRuns: 100 },
    );
  });

  it('any single flipped bit in a signed part is refused with an error code', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(bytesMutation, createdAtMutation), async (mutation) => {
        expect(mutation.codes).toContain(await rejectionCode(open(mutation.apply(envelope))));
      }),
      { numRuns: 200 },
    );
  });

  it('any value of the right alphabet and length as a signature or wrapped key is refused with an error code', async () => {
    const base64url = (length: number) =>
      fc.string({
        unit: fc.constantFrom(...BASE64URL),
        minLength: length,
        maxLength: length,
      });
    const garbage = fc.oneof(
      base64url(envelope.signature.length).map((signature) => ({ ...envelope, signature })),
      base64url(envelope.recipients[0]?.wrappedKey.length ?? 0).map((wrappedKey) => ({
        ...envelope,
        recipients: envelope.recipients.map((r) => ({ ...r, wrappedKey })),
      })),
    );
    await fc.assert(
      fc.asyncProperty(garbage, async (input) => {
        expect(['SIGNATURE_INVALID', 'ENVELOPE_INVALID']).toContain(
          await rejectionCode(open(input)),
        );
      }),
      { numRuns: 100 },
    );
  });

  it('any JSON value that is not an envelope is refused as invalid', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (value) => {
        expect(await rejectionCode(open(value))).toBe('ENVELOPE_INVALID');
      }),
      { numRuns: 100 },
    );
  });

  it('any JavaScript value at all is refused as invalid', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.anything({ withBigInt: true, withMap: true, withSet: true }),
        async (v) => {
          expect(await rejectionCode(open(v))).toBe('ENVELOPE_INVALID');
        },
      ),
      { numRuns: 100 },
    );
  });

  it('an envelope with one field replaced by any JSON value is refused with an error code', async () => {
    const paths = [
      'header',
      'header.id',
      'header.kind',
      'header.sender',
      'header.to',
      'header.createdAt',
      'nonce',
      'ciphertext',
      'recipients',
      'signature',
    ];
    const replaced = fc
      .record({ path: fc.constantFrom(...paths), value: fc.jsonValue() })
      .map(({ path, value }) => {
        const copy: Record<string, unknown> = structuredClone(envelope);
        const [outer = '', inner] = path.split('.');
        if (inner === undefined) copy[outer] = value;
        else copy[outer] = { ...(copy[outer] as object), [inner]: value };
        return copy;
      });
    await fc.assert(
      fc.asyncProperty(replaced, async (input) => {
        expect(typeof (await rejectionCode(open(input)))).toBe('string');
      }),
      { numRuns: 200 },
    );
  });
});
