import { describe, expect, it } from 'vitest';
import { issueCertificate } from '../../src/crypto/certificate.js';
import {
  type DeviceKeys,
  generateAuthorityKeys,
  generateDeviceKeys,
} from '../../src/crypto/keys.js';
import { signStatement } from '../../src/crypto/statement.js';
import { openEnvelope } from '../../src/envelope/open.js';
import { sealEnvelope } from '../../src/envelope/seal.js';
import { enroll, revoke, rotate } from '../fixtures/directory-changes.js';
import { rejectionCode } from '../fixtures/forge.js';
import { buildWorld, DAY, device, NOW, type World } from '../fixtures/world.js';

/** The trust in an envelope's sender: certificate, link, revocation and rotation. */

/** A chat from `sender` to `to` at `createdAt`, wrapped for the devices current at NOW. */
const chatFrom = (w: World, sender: DeviceKeys, to = 'KG-AKZHOL', createdAt = NOW) =>
  sealEnvelope({
    sender,
    to: [to],
    body: { type: 'chat', text: `from ${sender.deviceId}` },
    recipients: w.directory.recipientKeys([to], NOW),
    counter: 1,
    directory: w.directory.head,
    createdAt,
  });

const open = (w: World, input: unknown, deviceId = 'KG-AKZHOL/desk-1', now = NOW) =>
  openEnvelope(input, device(w, deviceId), w.directory, now);

const refusal = (w: World, input: unknown, deviceId?: string, now?: number) =>
  rejectionCode(open(w, input, deviceId, now));

describe('only linked offices can write to each other', () => {
  it('an envelope from an office without a link is refused', async () => {
    const w = await buildWorld();
    const envelope = await chatFrom(w, device(w, 'UZ-OYBEK/desk-1'));
    expect(await refusal(w, envelope)).toBe('NOT_LINKED');
  });

  it('an envelope created while the offices were linked still opens after the link is removed', async () => {
    const w = await buildWorld();
    const sender = device(w, 'KZ-KORDAI/desk-1');
    const before = await chatFrom(w, sender, 'KG-AKZHOL', NOW);
    const after = await chatFrom(w, sender, 'KG-AKZHOL', NOW + 2000);
    const offices: [string, string] = ['KG-AKZHOL', 'KZ-KORDAI'];
    w.directory.apply(
      await signStatement(
        w.authority,
        'link.removed',
        { offices },
        { issuedAt: NOW + 1000, after: w.directory.head },
      ),
    );
    await expect(open(w, before, 'KG-AKZHOL/desk-1', NOW + 3000)).resolves.toBeDefined();
    expect(await refusal(w, after, 'KG-AKZHOL/desk-1', NOW + 3000)).toBe('NOT_LINKED');
  });

  it('an envelope created before a link existed is refused', async () => {
    const w = await buildWorld();
    const offices: [string, string] = ['KZ-KORDAI', 'UZ-OYBEK'];
    w.directory.apply(
      await signStatement(
        w.authority,
        'link.created',
        { offices },
        { issuedAt: NOW, after: w.directory.head },
      ),
    );
    const sender = device(w, 'UZ-OYBEK/desk-1');
    const early = await chatFrom(w, sender, 'KZ-KORDAI', NOW - 1);
    expect(await refusal(w, early, 'KZ-KORDAI/desk-1')).toBe('NOT_LINKED');
    const onTime = await chatFrom(w, sender, 'KZ-KORDAI', NOW);
    await expect(open(w, onTime, 'KZ-KORDAI/desk-1')).resolves.toBeDefined();
  });

  it('an analyst cannot send', async () => {
    const w = await buildWorld();
    const envelope = await chatFrom(w, device(w, 'CARICC/analyst-1'));
    expect(await refusal(w, envelope)).toBe('FORBIDDEN');
  });
});

describe("the sender's certificate must be valid when the envelope was created", () => {
  it('an envelope from a device whose certificate had expired is refused', async () => {
    const w = await buildWorld();
    const old = await enroll(w, 'KZ-KORDAI/old-1', {
      notBefore: NOW - 30 * DAY,
      notAfter: NOW - DAY,
    });
    expect(await refusal(w, await chatFrom(w, old))).toBe('CERT_EXPIRED');
  });

  it('an envelope from a device whose certificate was not yet valid is refused', async () => {
    const w = await buildWorld();
    const early = await enroll(w, 'KZ-KORDAI/new-1', {
      notBefore: NOW + DAY,
      notAfter: NOW + 30 * DAY,
    });
    expect(await refusal(w, await chatFrom(w, early))).toBe('CERT_NOT_YET_VALID');
  });

  it('an envelope created while the certificate was valid still opens after it expired', async () => {
    const w = await buildWorld();
    const brief = await enroll(w, 'KZ-KORDAI/temp-1', {
      notBefore: NOW - DAY,
      notAfter: NOW + 3600_000,
    });
    const envelope = await chatFrom(w, brief);
    const opened = await open(w, envelope, 'KG-AKZHOL/desk-1', NOW + 2 * DAY);
    expect(opened.sender.deviceId).toBe('KZ-KORDAI/temp-1');
  });

  it('an envelope from a revoked device is refused, even one sent before the revocation', async () => {
    const w = await buildWorld();
    const sender = device(w, 'KZ-KORDAI/desk-1');
    const envelope = await chatFrom(w, sender);
    await revoke(w, sender.deviceId);
    expect(await refusal(w, envelope)).toBe('CERT_REVOKED');
    expect(await refusal(w, await chatFrom(w, sender))).toBe('CERT_REVOKED');
  });

  it('an envelope from a key the directory has never certified is refused', async () => {
    const w = await buildWorld();
    const impostor = await generateDeviceKeys('KZ-KORDAI/desk-1');
    expect(await refusal(w, await chatFrom(w, impostor))).toBe('CERT_UNKNOWN');
    const stranger = await generateDeviceKeys('KZ-KORDAI/ghost-1');
    expect(await refusal(w, await chatFrom(w, stranger))).toBe('CERT_UNKNOWN');
  });
});

describe('only the pinned authority can put a key in the directory', () => {
  const certifyBy = async (issuer: Awaited<ReturnType<typeof generateAuthorityKeys>>) => {
    const keys = await generateDeviceKeys('KZ-KORDAI/rogue-1');
    return issueCertificate(issuer, {
      role: 'device',
      deviceId: keys.deviceId,
      country: 'KZ',
      signingPublicKey: keys.signingPublicKey,
      encryptionPublicKey: keys.encryptionPublicKey,
      notBefore: NOW - DAY,
      notAfter: NOW + DAY,
    });
  };

  it('an enrolment signed by another authority is refused', async () => {
    const w = await buildWorld();
    const other = await generateAuthorityKeys();
    const statement = await signStatement(
      other,
      'device.enrolled',
      {
        certificate: await certifyBy(other),
      },
      { after: w.directory.head },
    );
    expect(() => w.directory.apply(statement)).toThrow(
      expect.objectContaining({ code: 'STATEMENT_UNTRUSTED' }),
    );
  });

  it("a certificate from another authority is refused inside the authority's own statement", async () => {
    const w = await buildWorld();
    const other = await generateAuthorityKeys();
    const statement = await signStatement(
      w.authority,
      'device.enrolled',
      {
        certificate: await certifyBy(other),
      },
      { after: w.directory.head },
    );
    const version = w.directory.version;
    expect(() => w.directory.apply(statement)).toThrow(
      expect.objectContaining({ code: 'CERT_UNTRUSTED' }),
    );
    expect(w.directory.version).toBe(version);
  });
});

describe('rotated keys', () => {
  const ROTATED_AT = NOW + 1000;

  it('a rotated-out key signs only what was created before the rotation', async () => {
    const w = await buildWorld();
    const old = device(w, 'KZ-KORDAI/desk-1');
    const before = await chatFrom(w, old, 'KG-AKZHOL', NOW);
    const after = await chatFrom(w, old, 'KG-AKZHOL', ROTATED_AT);
    const fresh = await rotate(w, old, ROTATED_AT);

    const later = NOW + 2000;
    await expect(open(w, before, 'KG-AKZHOL/desk-1', later)).resolves.toBeDefined();
    expect(await refusal(w, after, 'KG-AKZHOL/desk-1', later)).toBe('KEY_ROTATED');
    const withNewKey = await chatFrom(w, fresh, 'KG-AKZHOL', NOW + 1500);
    const opened = await open(w, withNewKey, 'KG-AKZHOL/desk-1', later);
    expect(opened.sender.keyId).toBe(fresh.keyId);
  });

  it('senders wrap for the new key once a recipient rotates', async () => {
    const w = await buildWorld();
    const old = device(w, 'KZ-KORDAI/desk-1');
    const fresh = await rotate(w, old, ROTATED_AT);
    const desk = w.directory.recipientKeys(['KZ-KORDAI'], NOW + 2000);
    expect(desk.filter((r) => r.deviceId === old.deviceId).map((r) => r.keyId)).toEqual([
      fresh.keyId,
    ]);
  });

  it('an envelope wrapped for the old key cannot be opened with the new one', async () => {
    const w = await buildWorld();
    const old = device(w, 'KG-AKZHOL/desk-1');
    const envelope = await chatFrom(w, device(w, 'KZ-KORDAI/desk-1'));
    const fresh = await rotate(w, old, ROTATED_AT);
    const later = NOW + 2000;
    // The reader's own loss, told apart from an envelope not meant for it (PROTOCOL.md §7.5).
    expect(await rejectionCode(openEnvelope(envelope, fresh, w.directory, later))).toBe(
      'OWN_KEY_MISSING',
    );
    // The device keeps its old key to read what was sent before the rotation.
    await expect(openEnvelope(envelope, old, w.directory, later)).resolves.toBeDefined();
  });
});
