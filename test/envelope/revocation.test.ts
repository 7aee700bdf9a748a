import { describe, expect, it } from 'vitest';
import type { DeviceKeys } from '../../src/crypto/keys.js';
import { signStatement } from '../../src/crypto/statement.js';
import { openEnvelope } from '../../src/envelope/open.js';
import { sealEnvelope } from '../../src/envelope/seal.js';
import { revoke, rotate } from '../fixtures/directory-changes.js';
import { rejectionCode } from '../fixtures/forge.js';
import { buildWorld, device, NOW, type World } from '../fixtures/world.js';

// Revocation carries the time from which a key is untrusted (like RFC 5280's invalidityDate),
// judged against when the gateway accepted an envelope: a thief can back-date `createdAt`, not
// the gateway's acceptance. History from before stays readable; nothing after is trusted.

const MINUTE = 60_000;

const chatFrom = (w: World, sender: DeviceKeys, createdAt: number) =>
  sealEnvelope({
    sender,
    to: ['KG-AKZHOL'],
    body: { type: 'chat', text: `from ${sender.deviceId} at ${createdAt}` },
    recipients: w.directory.recipientKeys(['KG-AKZHOL'], NOW),
    counter: 1,
    directory: w.directory.head,
    createdAt,
  });

const open = (w: World, envelope: unknown, acceptedAt?: number) =>
  openEnvelope(envelope, device(w, 'KG-AKZHOL/desk-1'), w.directory, NOW + 60 * MINUTE, {
    ...(acceptedAt === undefined ? {} : { acceptedAt }),
  });

describe('revocation takes effect from its compromise time', () => {
  it('a decommissioned laptop: what it sent before stays readable, nothing after', async () => {
    const w = await buildWorld();
    const laptop = device(w, 'KZ-KORDAI/duty-1');
    const before = await chatFrom(w, laptop, NOW);
    await revoke(w, laptop.deviceId, undefined, {
      reason: 'decommissioned',
      issuedAt: NOW + 10 * MINUTE,
    });
    expect((await open(w, before, NOW + 1000)).sender.deviceId).toBe(laptop.deviceId);
    const after = await chatFrom(w, laptop, NOW + 20 * MINUTE);
    expect(await rejectionCode(open(w, after, NOW + 20 * MINUTE))).toBe('CERT_REVOKED');
  });

  it('a laptop stolen at a known time: a back-dated envelope accepted after it is refused', async () => {
    const w = await buildWorld();
    const laptop = device(w, 'KZ-KORDAI/duty-1');
    const honest = await chatFrom(w, laptop, NOW);
    await revoke(w, laptop.deviceId, undefined, {
      reason: 'lost',
      compromisedAt: NOW + 5 * MINUTE,
      issuedAt: NOW + 30 * MINUTE,
    });
    expect((await open(w, honest, NOW + 1000)).sender.deviceId).toBe(laptop.deviceId);
    // The thief signs with createdAt inside the trusted period; the gateway accepts it later.
    const backdated = await chatFrom(w, laptop, NOW + MINUTE);
    expect(await rejectionCode(open(w, backdated, NOW + 6 * MINUTE))).toBe('CERT_REVOKED');
  });

  it('without the acceptance time, any revocation counts', async () => {
    const w = await buildWorld();
    const laptop = device(w, 'KZ-KORDAI/duty-1');
    const before = await chatFrom(w, laptop, NOW);
    await revoke(w, laptop.deviceId, undefined, {
      reason: 'decommissioned',
      issuedAt: NOW + 10 * MINUTE,
    });
    expect(await rejectionCode(open(w, before))).toBe('CERT_REVOKED');
  });

  it('a key compromised without a known time is untrusted for all time', async () => {
    const w = await buildWorld();
    const laptop = device(w, 'KZ-KORDAI/duty-1');
    const before = await chatFrom(w, laptop, NOW);
    await revoke(w, laptop.deviceId, undefined, { issuedAt: NOW + 10 * MINUTE });
    expect(await rejectionCode(open(w, before, NOW + 1000))).toBe('CERT_REVOKED');
  });

  it('a revoked device gets no new envelopes, whatever the reason', async () => {
    const w = await buildWorld();
    await revoke(w, 'KG-AKZHOL/duty-1', undefined, { reason: 'decommissioned' });
    const recipients = w.directory.recipientKeys(['KG-AKZHOL'], NOW).map((k) => k.deviceId);
    expect(recipients).not.toContain('KG-AKZHOL/duty-1');
  });

  it('a compromise time after the revocation itself is refused', async () => {
    const w = await buildWorld();
    const statement = await signStatement(
      w.authority,
      'device.revoked',
      { deviceId: 'KZ-KORDAI/duty-1', reason: 'lost', compromisedAt: NOW + 2 * MINUTE },
      { issuedAt: NOW + MINUTE, after: w.directory.head },
    );
    expect(() => w.directory.apply(statement)).toThrow(
      expect.objectContaining({ code: 'STATEMENT_CONFLICT' }),
    );
  });
});

describe('a device keeps its past keys, and knows a loss of its own from a bad envelope', () => {
  it('a backlog sealed to a rotated-out key opens with the keyring, and is the reader’s own loss without it', async () => {
    const w = await buildWorld();
    const old = device(w, 'KG-AKZHOL/desk-1');
    const backlog = await chatFrom(w, device(w, 'KZ-KORDAI/desk-1'), NOW);
    const current = await rotate(w, old, NOW + MINUTE);
    const later = NOW + 60 * MINUTE;
    const opened = await openEnvelope(backlog, [current, old], w.directory, later);
    expect(opened.body).toMatchObject({ type: 'chat' });
    expect(await rejectionCode(openEnvelope(backlog, current, w.directory, later))).toBe(
      'OWN_KEY_MISSING',
    );
  });

  it('an envelope with no key for this device at all is not addressed to it', async () => {
    const w = await buildWorld();
    const envelope = await chatFrom(w, device(w, 'KZ-KORDAI/desk-1'), NOW);
    expect(
      await rejectionCode(openEnvelope(envelope, device(w, 'UZ-OYBEK/desk-1'), w.directory, NOW)),
    ).toBe('NOT_A_RECIPIENT');
  });
});
