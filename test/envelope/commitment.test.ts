import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Envelope } from '../../protocol/v1/envelope.js';
import { sodium, toBase64Url } from '../../src/crypto/sodium.js';
import { openEnvelope } from '../../src/envelope/open.js';
import { sealEnvelope } from '../../src/envelope/seal.js';
import { decrypt, flipBit, forge, rejectionCode, resign } from '../fixtures/forge.js';
import { buildWorld, device, NOW, type World } from '../fixtures/world.js';

// A sender who controls its own device tries to show the border office one thing and CARICC
// another (or nothing). The header commits to the content key and every wrap is rebuilt from it,
// so each reader opens the same content or refuses, and no recipient reads what the hub cannot.

let world: World;
let honest: Envelope;
const READERS = ['KG-AKZHOL/desk-1', 'KG-AKZHOL/duty-1', 'CARICC/hub'];

beforeAll(async () => {
  world = await buildWorld();
  honest = await sealEnvelope({
    sender: device(world, 'KZ-KORDAI/desk-1'),
    to: ['KG-AKZHOL'],
    recipients: world.directory.recipientKeys(['KG-AKZHOL'], NOW),
    counter: 1,
    directory: world.directory.head,
    body: { type: 'chat', text: 'Blue truck, plates 01 KG 123, heading your way' },
    createdAt: NOW,
  });
});

const codeFor = (envelope: unknown, deviceId: string) =>
  rejectionCode(openEnvelope(envelope, device(world, deviceId), world.directory, NOW));

/** The honest message, re-encrypted by its own sender with some devices given another key. */
function forgeFromSender(options: { otherKeyFor?: string[]; commitTo?: Uint8Array }): Envelope {
  const sender = device(world, 'KZ-KORDAI/desk-1');
  const id = randomUUID();
  return forge({
    header: { ...honest.header, id },
    plaintext: { ...decrypt(honest, device(world, 'KG-AKZHOL/desk-1')), envelopeId: id },
    recipients: world.directory.recipientKeys(['KG-AKZHOL'], NOW),
    signer: sender,
    ...options,
  });
}

describe('every reader opens the same content key, or refuses', () => {
  it('an honest envelope opens for both recipient devices and the hub', async () => {
    for (const reader of READERS) {
      const opened = await openEnvelope(honest, device(world, reader), world.directory, NOW);
      expect(opened.body).toMatchObject({ type: 'chat' });
    }
  });

  it('a random key wrapped for the hub: the recipients refuse, and so does the hub', async () => {
    const forged = forgeFromSender({ otherKeyFor: ['CARICC/hub'] });
    expect(await codeFor(forged, 'KG-AKZHOL/desk-1')).toBe('HUB_KEY_MISMATCH');
    expect(await codeFor(forged, 'KG-AKZHOL/duty-1')).toBe('HUB_KEY_MISMATCH');
    expect(await codeFor(forged, 'CARICC/hub')).toBe('KEY_COMMITMENT_MISMATCH');
  });

  it('the right key sealed for the hub with a box of the sender’s own making is refused', async () => {
    // crypto_box_seal with a fresh ephemeral key opens for the hub, but cannot be rebuilt from the
    // content key, so a recipient cannot tell it from a wrap of another key.
    const akzhol = device(world, 'KG-AKZHOL/desk-1');
    const contentKey = sodium.crypto_box_seal_open(
      sodium.from_base64(
        honest.recipients.find((r) => r.deviceId === akzhol.deviceId)?.wrappedKey ?? '',
        sodium.base64_variants.URLSAFE_NO_PADDING,
      ),
      akzhol.encryptionPublicKey,
      akzhol.encryptionSecretKey,
    );
    const hub = device(world, 'CARICC/hub');
    const recipients = honest.recipients.map((r) =>
      r.deviceId === hub.deviceId
        ? {
            ...r,
            wrappedKey: toBase64Url(sodium.crypto_box_seal(contentKey, hub.encryptionPublicKey)),
          }
        : r,
    );
    const resealed = resign({ ...honest, recipients }, device(world, 'KZ-KORDAI/desk-1'));
    await expect(openEnvelope(resealed, hub, world.directory, NOW)).resolves.toBeDefined();
    expect(await codeFor(resealed, 'KG-AKZHOL/desk-1')).toBe('HUB_KEY_MISMATCH');
  });

  it('another key for one recipient device: that device refuses instead of reading something else', async () => {
    const forged = forgeFromSender({ otherKeyFor: ['KG-AKZHOL/duty-1'] });
    const desk = await openEnvelope(
      forged,
      device(world, 'KG-AKZHOL/desk-1'),
      world.directory,
      NOW,
    );
    expect(desk.body).toEqual(
      (await openEnvelope(honest, device(world, 'KG-AKZHOL/desk-1'), world.directory, NOW)).body,
    );
    expect(await codeFor(forged, 'KG-AKZHOL/duty-1')).toBe('KEY_COMMITMENT_MISMATCH');
  });

  it('a header that commits to a key nobody was given is refused by every reader', async () => {
    const forged = forgeFromSender({
      commitTo: sodium.crypto_aead_xchacha20poly1305_ietf_keygen(),
    });
    for (const reader of READERS) {
      expect(await codeFor(forged, reader)).toBe('KEY_COMMITMENT_MISMATCH');
    }
  });

  it('a commitment changed in transit breaks the signature', async () => {
    const changed = {
      ...honest,
      header: { ...honest.header, keyCommitment: flipBit(honest.header.keyCommitment, 9) },
    };
    expect(await codeFor(changed, 'KG-AKZHOL/desk-1')).toBe('SIGNATURE_INVALID');
  });
});
