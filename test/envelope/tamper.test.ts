import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Envelope, type EnvelopeHeader, MAX_RECIPIENTS } from '../../protocol/v1/envelope.js';
import type { AlertBody } from '../../protocol/v1/payload.js';
import { signStatement } from '../../src/crypto/statement.js';
import { openEnvelope, verifyEnvelope } from '../../src/envelope/open.js';
import { sealEnvelope } from '../../src/envelope/seal.js';
import {
  decrypt,
  flipBit,
  forge,
  rejectionCode,
  resign,
  sampleBits,
  setUnusedBit,
} from '../fixtures/forge.js';
import { buildWorld, DAY, device, NOW, type World } from '../fixtures/world.js';

let world: World;
/** A chat from KZ-KORDAI/desk-1 to KG-AKZHOL, created at NOW. */
let chat: Envelope;
/** A FLASH alert from KZ-KORDAI/desk-1 to KG-AKZHOL, created at NOW. */
let alert: Envelope;

const alertBody: AlertBody = {
  type: 'alert',
  category: 'drug-seizure',
  precedence: 'FLASH',
  title: 'Heroin in a spare tyre',
  description: 'Seized at the gate; the escort car turned back.',
  location: { bcp: 'Kordai' },
  subjects: [{ kind: 'vehicle', plate: '01 KG 555 ABC', country: 'KG' }],
  validFrom: NOW,
  validUntil: NOW + 3600_000,
};

beforeAll(async () => {
  world = await buildWorld();
  const base = {
    sender: device(world, 'KZ-KORDAI/desk-1'),
    to: ['KG-AKZHOL'],
    recipients: world.directory.recipientKeys(['KG-AKZHOL'], NOW),
    counter: 1,
    directory: world.directory.head,
    createdAt: NOW,
  };
  chat = await sealEnvelope({ ...base, body: { type: 'chat', text: 'Convoy of three at 14:00' } });
  alert = await sealEnvelope({ ...base, body: alertBody });
});

/** Opens as `deviceId` (default KG-AKZHOL/desk-1) and returns the refusal's code. */
const refusal = (input: unknown, deviceId = 'KG-AKZHOL/desk-1', w: World = world) =>
  rejectionCode(openEnvelope(input, device(w, deviceId), w.directory, NOW));

const withHeader = (envelope: Envelope, patch: Partial<EnvelopeHeader>): Envelope => ({
  ...envelope,
  header: { ...envelope.header, ...patch },
});

describe('a changed byte anywhere in an envelope is noticed', () => {
  for (const part of ['nonce', 'ciphertext', 'signature'] as const) {
    it(`a flipped bit in the ${part} is refused`, async () => {
      const bits = sampleBits(chat[part]);
      for (const bit of bits) {
        expect(await refusal({ ...chat, [part]: flipBit(chat[part], bit) })).toBe(
          'SIGNATURE_INVALID',
        );
      }
    });
  }

  it('a flipped bit in any wrapped key is refused', async () => {
    for (const [index, entry] of chat.recipients.entries()) {
      const recipients = chat.recipients.map((r, i) =>
        i === index ? { ...r, wrappedKey: flipBit(entry.wrappedKey, 77) } : r,
      );
      expect(await refusal({ ...chat, recipients })).toBe('SIGNATURE_INVALID');
    }
  });

  it('a dropped or reordered wrapped key is refused', async () => {
    const akzholOnly = chat.recipients.filter((r) => r.deviceId !== 'KG-AKZHOL/duty-1');
    expect(await refusal({ ...chat, recipients: akzholOnly })).toBe('SIGNATURE_INVALID');
    expect(await refusal({ ...chat, recipients: [...chat.recipients].reverse() })).toBe(
      'SIGNATURE_INVALID',
    );
  });

  it('an edited id, kind, precedence or creation time in the header is refused', async () => {
    expect(await refusal(withHeader(chat, { id: randomUUID() }))).toBe('SIGNATURE_INVALID');
    expect(await refusal(withHeader(chat, { kind: 'receipt' }))).toBe('SIGNATURE_INVALID');
    expect(await refusal(withHeader(alert, { precedence: 'ROUTINE' }))).toBe('SIGNATURE_INVALID');
    expect(await refusal(withHeader(chat, { createdAt: NOW - 1 }))).toBe('SIGNATURE_INVALID');
  });

  it('an edited sender key id names no certified key and is refused', async () => {
    const { sender } = chat.header;
    const keyId = flipBit(sender.keyId, 5);
    expect(await refusal(withHeader(chat, { sender: { ...sender, keyId } }))).toBe('CERT_UNKNOWN');
    const other = { deviceId: 'KZ-KORDAI/duty-1', keyId: sender.keyId };
    expect(await refusal(withHeader(chat, { sender: other }))).toBe('CERT_UNKNOWN');
  });

  it('an edited recipient office list is refused', async () => {
    expect(await refusal(withHeader(chat, { to: ['UZ-OYBEK'] }))).toBe('NOT_LINKED');
    // Where the sender is linked to the added office too, the signature still catches it.
    const w = await buildWorld();
    const offices: [string, string] = ['KZ-KORDAI', 'UZ-OYBEK'];
    w.directory.apply(
      await signStatement(
        w.authority,
        'link.created',
        { offices },
        { issuedAt: NOW - DAY, after: w.directory.head },
      ),
    );
    const envelope = await sealEnvelope({
      sender: device(w, 'KZ-KORDAI/desk-1'),
      to: ['KG-AKZHOL'],
      body: { type: 'chat', text: 'for Ak-Zhol only' },
      recipients: w.directory.recipientKeys(['KG-AKZHOL'], NOW),
      counter: 1,
      directory: w.directory.head,
      createdAt: NOW,
    });
    await expect(
      openEnvelope(envelope, device(w, 'KG-AKZHOL/desk-1'), w.directory, NOW),
    ).resolves.toBeDefined();
    const widened = withHeader(envelope, { to: ['KG-AKZHOL', 'UZ-OYBEK'] });
    expect(await refusal(widened, 'KG-AKZHOL/desk-1', w)).toBe('SIGNATURE_INVALID');
  });
});

describe('a signature cannot be stripped and replaced', () => {
  it('a recipient that re-sends a message as its own is caught by the sender inside', async () => {
    const akzhol = device(world, 'KG-AKZHOL/desk-1');
    const plaintext = decrypt(chat, akzhol);
    expect(plaintext.sender).toBe('KZ-KORDAI/desk-1');
    const forged = forge({
      header: {
        ...chat.header,
        sender: { deviceId: akzhol.deviceId, keyId: akzhol.keyId },
        to: ['KZ-KORDAI'],
      },
      plaintext,
      recipients: world.directory.recipientKeys(['KZ-KORDAI'], NOW),
      signer: akzhol,
    });
    expect(await refusal(forged, 'KZ-KORDAI/desk-1')).toBe('INNER_SENDER_MISMATCH');
  });

  it('a recipient that lifts a message into an envelope with a new id is caught', async () => {
    const akzhol = device(world, 'KG-AKZHOL/desk-1');
    const plaintext = { ...decrypt(chat, akzhol), sender: akzhol.deviceId };
    const forged = forge({
      header: {
        ...chat.header,
        id: randomUUID(),
        sender: { deviceId: akzhol.deviceId, keyId: akzhol.keyId },
        to: ['KZ-KORDAI'],
      },
      plaintext,
      recipients: world.directory.recipientKeys(['KZ-KORDAI'], NOW),
      signer: akzhol,
    });
    expect(await refusal(forged, 'KZ-KORDAI/desk-1')).toBe('INNER_SENDER_MISMATCH');
  });

  it('a new sender in the header, re-signed by that sender, no longer decrypts', async () => {
    const duty = device(world, 'KZ-KORDAI/duty-1');
    const swapped = resign(
      withHeader(chat, { sender: { deviceId: duty.deviceId, keyId: duty.keyId } }),
      duty,
    );
    await expect(verifyEnvelope(swapped, world.directory, NOW)).resolves.toBeDefined();
    expect(await refusal(swapped)).toBe('DECRYPT_FAILED');
  });

  it('a body that contradicts the kind or precedence in the header is refused', async () => {
    const sender = device(world, 'KZ-KORDAI/desk-1');
    const recipients = world.directory.recipientKeys(['KG-AKZHOL'], NOW);
    const header = { ...chat.header, id: randomUUID() };
    const asChat = forge({
      header,
      plaintext: { v: 1, envelopeId: header.id, sender: sender.deviceId, body: alertBody },
      recipients,
      signer: sender,
    });
    expect(await refusal(asChat)).toBe('PAYLOAD_INVALID');
    const routine = { ...alert.header, id: randomUUID(), precedence: 'ROUTINE' as const };
    const downgraded = forge({
      header: routine,
      plaintext: { v: 1, envelopeId: routine.id, sender: sender.deviceId, body: alertBody },
      recipients,
      signer: sender,
    });
    expect(await refusal(downgraded)).toBe('PAYLOAD_INVALID');
  });

  it('a plaintext that is not a Liaison payload is refused', async () => {
    const sender = device(world, 'KZ-KORDAI/desk-1');
    const forged = forge({
      header: { ...chat.header, id: randomUUID() },
      plaintext: { hello: 'world' },
      recipients: world.directory.recipientKeys(['KG-AKZHOL'], NOW),
      signer: sender,
    });
    expect(await refusal(forged)).toBe('PAYLOAD_INVALID');
  });
});

describe('malformed input is refused, never a crash', () => {
  it('values that are not envelopes are refused', async () => {
    for (const input of [null, undefined, {}, [], 'envelope', 42, true, { header: {} }]) {
      expect(await refusal(input)).toBe('ENVELOPE_INVALID');
    }
  });

  it('an envelope with an extra property, outside or in the header, is refused', async () => {
    expect(await refusal({ ...chat, note: 'hi' })).toBe('ENVELOPE_INVALID');
    expect(await refusal({ ...chat, header: { ...chat.header, urgent: true } })).toBe(
      'ENVELOPE_INVALID',
    );
  });

  it('an envelope of another protocol version is refused as unsupported', async () => {
    const v3 = { ...chat, header: { ...chat.header, v: 3 } };
    expect(await refusal(v3)).toBe('UNSUPPORTED_VERSION');
    const v5 = { ...chat, header: { ...chat.header, v: 5 } };
    expect(await refusal(v5)).toBe('UNSUPPORTED_VERSION');
  });

  it('an envelope with two wrapped keys for one device is refused', async () => {
    const [first] = chat.recipients;
    expect(await refusal({ ...chat, recipients: [...chat.recipients, first] })).toBe(
      'ENVELOPE_INVALID',
    );
  });

  it('an envelope with too many recipients is refused', async () => {
    const [first] = chat.recipients;
    if (!first) throw new Error('no recipients');
    const recipients = Array.from({ length: MAX_RECIPIENTS + 1 }, (_, i) => ({
      ...first,
      deviceId: `KG-AKZHOL/desk-${i}`,
    }));
    expect(await refusal({ ...chat, recipients })).toBe('ENVELOPE_INVALID');
  });

  it('an envelope created more than five minutes in the future is refused', async () => {
    const base = {
      sender: device(world, 'KZ-KORDAI/desk-1'),
      to: ['KG-AKZHOL'],
      body: { type: 'chat', text: 'from tomorrow' } as const,
      recipients: world.directory.recipientKeys(['KG-AKZHOL'], NOW),
      counter: 1,
      directory: world.directory.head,
    };
    const edge = await sealEnvelope({ ...base, createdAt: NOW + 5 * 60_000 });
    await expect(
      openEnvelope(edge, device(world, 'KG-AKZHOL/desk-1'), world.directory, NOW),
    ).resolves.toBeDefined();
    const beyond = await sealEnvelope({ ...base, createdAt: NOW + 5 * 60_000 + 1 });
    expect(await refusal(beyond)).toBe('ENVELOPE_INVALID');
  });

  it('a signature that is not canonical base64url is refused', async () => {
    expect(await refusal({ ...chat, signature: setUnusedBit(chat.signature) })).toBe(
      'ENVELOPE_INVALID',
    );
  });

  it('a wrapped key that is not canonical base64url is refused', async () => {
    const recipients = chat.recipients.map((r) => ({
      ...r,
      wrappedKey: setUnusedBit(r.wrappedKey),
    }));
    expect(await refusal({ ...chat, recipients })).toBe('ENVELOPE_INVALID');
  });

  it('a ciphertext of a length that never decodes is refused', async () => {
    // Base64url of 4n+1 characters does not decode.
    const ciphertext = `${chat.ciphertext}${'A'.repeat(5 - (chat.ciphertext.length % 4))}`;
    expect(await refusal({ ...chat, ciphertext })).toBe('ENVELOPE_INVALID');
  });
});
