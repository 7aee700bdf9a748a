import { describe, expect, it } from 'vitest';
import type { Signed } from '../../protocol/v1/certificate.js';
import { pinAuthority, publishAuthority } from '../../src/crypto/certificate.js';
import { generateDeviceKeys } from '../../src/crypto/keys.js';
import { signObject } from '../../src/crypto/signed.js';
import { fromBase64Url, fromUtf8, toBase64Url, utf8 } from '../../src/crypto/sodium.js';
import { signStatement } from '../../src/crypto/statement.js';
import { Directory } from '../../src/directory/directory.js';
import { isLiaisonError } from '../../src/errors.js';
import { enroll, revoke, rotate, rotationStatement } from '../fixtures/directory-changes.js';
import { flipBit } from '../fixtures/forge.js';
import { buildWorld, device, NOW, type World } from '../fixtures/world.js';

/** Applies a statement and returns the refusal's code (or fails when it is accepted). */
function refusal(w: World, statement: Signed): string {
  const version = w.directory.version;
  try {
    w.directory.apply(statement);
  } catch (error) {
    if (!isLiaisonError(error)) throw error;
    expect(w.directory.version, 'a refused statement changes nothing').toBe(version);
    return error.code;
  }
  throw new Error('expected the statement to be refused');
}

const office = (w: World, officeId: string, country: 'KZ' | 'KG' | 'TJ' | 'UZ') =>
  signStatement(
    w.authority,
    'office.registered',
    { officeId, country, name: officeId, bcp: 'x' },
    { after: w.directory.head },
  );

const link = (
  w: World,
  offices: [string, string],
  kind: 'link.created' | 'link.removed',
  issuedAt = NOW,
) => signStatement(w.authority, kind, { offices }, { issuedAt, after: w.directory.head });

describe('directory statements', () => {
  it('replaying the statement log in order rebuilds the same directory', async () => {
    const w = await buildWorld();
    const copy = new Directory(await pinAuthority(publishAuthority(w.authority, 'copy')));
    copy.applyAll(w.directory.statements());
    expect(copy.version).toBe(w.directory.version);
    expect(copy.recipientKeys(['KG-AKZHOL'], NOW)).toEqual(
      w.directory.recipientKeys(['KG-AKZHOL'], NOW),
    );
    expect(copy.linkedOffices('KZ-KORDAI')).toEqual(['KG-AKZHOL']);
  });

  it('a statement applied twice is accepted once', async () => {
    const w = await buildWorld();
    const statement = await office(w, 'TJ-PANJ', 'TJ');
    expect(w.directory.apply(statement)).toBe(true);
    const version = w.directory.version;
    expect(w.directory.apply(statement)).toBe(false);
    expect(w.directory.version).toBe(version);
    expect(w.directory.statements(version - 1)).toEqual([statement]);
  });

  it('a different statement reusing an applied id is refused', async () => {
    const w = await buildWorld();
    const first = await signStatement(
      w.authority,
      'office.registered',
      { officeId: 'TJ-PANJ', country: 'TJ', name: 'BLO Panji Poyon', bcp: 'Panji Poyon' },
      { id: '6f1d3c1e-0000-4000-8000-000000000001', issuedAt: NOW, after: w.directory.head },
    );
    w.directory.apply(first);
    const reuse = await signStatement(
      w.authority,
      'office.registered',
      { officeId: 'TJ-DUSTI', country: 'TJ', name: 'BLO Dusti', bcp: 'Dusti' },
      { id: '6f1d3c1e-0000-4000-8000-000000000001', issuedAt: NOW, after: w.directory.head },
    );
    expect(refusal(w, reuse)).toBe('STATEMENT_CONFLICT');
    expect(w.directory.office('TJ-DUSTI')).toBeUndefined();
  });

  it('statements out of order are refused: a link or device needs its office first', async () => {
    const w = await buildWorld();
    expect(refusal(w, await link(w, ['KG-AKZHOL', 'TJ-PANJ'], 'link.created'))).toBe(
      'STATEMENT_CONFLICT',
    );
    const keys = await generateDeviceKeys('TJ-PANJ/desk-1');
    expect(refusal(w, await w.certify(keys, 'device'))).toBe('STATEMENT_CONFLICT');
  });

  it('an office is registered once, under its own country', async () => {
    const w = await buildWorld();
    expect(refusal(w, await office(w, 'KZ-KORDAI', 'KZ'))).toBe('STATEMENT_CONFLICT');
    expect(refusal(w, await office(w, 'KG-TORUGART', 'KZ'))).toBe('STATEMENT_CONFLICT');
  });

  it('a link must cross a border between two registered offices, once', async () => {
    const w = await buildWorld();
    w.directory.apply(await office(w, 'KZ-NURZHOL', 'KZ'));
    expect(refusal(w, await link(w, ['KZ-KORDAI', 'KZ-NURZHOL'], 'link.created'))).toBe(
      'STATEMENT_CONFLICT',
    );
    expect(refusal(w, await link(w, ['CARICC', 'KZ-KORDAI'], 'link.created'))).toBe(
      'STATEMENT_CONFLICT',
    );
    expect(refusal(w, await link(w, ['KG-AKZHOL', 'KZ-KORDAI'], 'link.created'))).toBe(
      'STATEMENT_CONFLICT',
    );
    expect(w.directory.isLinked('KZ-KORDAI', 'KZ-NURZHOL')).toBe(false);
  });

  it('a removed link ends the pairing but leaves every key in place', async () => {
    const w = await buildWorld();
    const before = w.directory.recipientKeys(['KG-AKZHOL'], NOW);
    w.directory.apply(await link(w, ['KG-AKZHOL', 'KZ-KORDAI'], 'link.removed'));
    expect(w.directory.isLinked('KZ-KORDAI', 'KG-AKZHOL')).toBe(false);
    expect(w.directory.linkedOffices('KZ-KORDAI')).toEqual([]);
    expect(w.directory.recipientKeys(['KG-AKZHOL'], NOW)).toEqual(before);
    expect(refusal(w, await link(w, ['KG-AKZHOL', 'KZ-KORDAI'], 'link.removed'))).toBe(
      'STATEMENT_CONFLICT',
    );
  });

  it('a link exists from its creation until its removal, and may be created again', async () => {
    const w = await buildWorld();
    const pair: [string, string] = ['KZ-KORDAI', 'UZ-OYBEK'];
    w.directory.apply(await link(w, pair, 'link.created', NOW));
    w.directory.apply(await link(w, pair, 'link.removed', NOW + 1000));
    w.directory.apply(await link(w, pair, 'link.created', NOW + 5000));
    const linkedAt = (at: number) => w.directory.isLinked('UZ-OYBEK', 'KZ-KORDAI', at);
    expect([NOW - 1, NOW, NOW + 999, NOW + 1000, NOW + 4999, NOW + 5000].map(linkedAt)).toEqual([
      false,
      true,
      true,
      false,
      false,
      true,
    ]);
    expect(w.directory.isLinked('KZ-KORDAI', 'UZ-OYBEK')).toBe(true);
    expect(w.directory.linkedOffices('KZ-KORDAI')).toEqual(['KG-AKZHOL', 'UZ-OYBEK']);
  });

  it("an envelope to Ak-Zhol is wrapped for exactly Ak-Zhol's devices and the hub", async () => {
    const w = await buildWorld();
    const keys = w.directory.recipientKeys(['KG-AKZHOL'], NOW);
    const expected = ['CARICC/hub', 'KG-AKZHOL/desk-1', 'KG-AKZHOL/duty-1'].map((id) => {
      const d = device(w, id);
      return { deviceId: id, keyId: d.keyId, encryptionPublicKey: d.encryptionPublicKey };
    });
    expect(keys).toEqual(expected);
  });

  it('a device is enrolled once; a new key for it is a rotation', async () => {
    const w = await buildWorld();
    const again = await generateDeviceKeys('KZ-KORDAI/desk-1');
    expect(refusal(w, await w.certify(again, 'device'))).toBe('STATEMENT_CONFLICT');
  });

  it('a rotation must replace the current key', async () => {
    const w = await buildWorld();
    const first = device(w, 'KZ-KORDAI/desk-1');
    await rotate(w, first, NOW + 1000);
    const next = await generateDeviceKeys(first.deviceId);
    const stale = await rotationStatement(w, next, first.keyId, NOW + 2000);
    expect(refusal(w, stale)).toBe('STATEMENT_CONFLICT');
    const nobody = await generateDeviceKeys('KZ-KORDAI/ghost-1');
    expect(refusal(w, await rotationStatement(w, nobody, first.keyId, NOW))).toBe(
      'STATEMENT_CONFLICT',
    );
  });

  it('a revoked device leaves the recipient list and its keys stop working', async () => {
    const w = await buildWorld();
    await revoke(w, 'KG-AKZHOL/duty-1');
    const ids = w.directory.recipientKeys(['KG-AKZHOL'], NOW).map((r) => r.deviceId);
    expect(ids).toEqual(['CARICC/hub', 'KG-AKZHOL/desk-1']);
    const duty = device(w, 'KG-AKZHOL/duty-1');
    expect(() => w.directory.usableKey(duty.deviceId, duty.keyId, NOW)).toThrow(
      expect.objectContaining({ code: 'CERT_REVOKED' }),
    );
  });

  it('revoking one key leaves the device and its other keys usable', async () => {
    const w = await buildWorld();
    const old = device(w, 'KZ-KORDAI/desk-1');
    const fresh = await rotate(w, old, NOW + 1000);
    await revoke(w, old.deviceId, old.keyId);
    expect(() => w.directory.usableKey(old.deviceId, old.keyId, NOW)).toThrow(
      expect.objectContaining({ code: 'CERT_REVOKED' }),
    );
    expect(w.directory.usableKey(fresh.deviceId, fresh.keyId, NOW + 2000).keyId).toBe(fresh.keyId);
    const other = device(w, 'KZ-KORDAI/duty-1');
    expect(w.directory.usableKey(other.deviceId, other.keyId, NOW).deviceId).toBe(other.deviceId);
  });

  it('a revoked device cannot be enrolled again under the same id', async () => {
    const w = await buildWorld();
    await revoke(w, 'KG-AKZHOL/duty-1');
    const comeback = await generateDeviceKeys('KG-AKZHOL/duty-1');
    expect(refusal(w, await w.certify(comeback, 'device'))).toBe('STATEMENT_CONFLICT');
  });

  it('a device whose current key was revoked can be rotated to a new one', async () => {
    const w = await buildWorld();
    const lost = device(w, 'KG-AKZHOL/duty-1');
    await revoke(w, lost.deviceId, lost.keyId);
    expect(w.directory.recipientKeys(['KG-AKZHOL'], NOW).map((r) => r.deviceId)).not.toContain(
      lost.deviceId,
    );
    const replacement = await rotate(w, lost, NOW + 1000);
    const duty = w.directory
      .recipientKeys(['KG-AKZHOL'], NOW + 2000)
      .filter((r) => r.deviceId === lost.deviceId);
    expect(duty.map((r) => r.keyId)).toEqual([replacement.keyId]);
  });

  it('revoking a device or key the directory does not know is refused', async () => {
    const w = await buildWorld();
    const unknownDevice = await signStatement(
      w.authority,
      'device.revoked',
      {
        deviceId: 'KZ-KORDAI/ghost-1',
        reason: 'lost',
      },
      { after: w.directory.head },
    );
    expect(refusal(w, unknownDevice)).toBe('STATEMENT_CONFLICT');
    const unknownKey = await signStatement(
      w.authority,
      'device.revoked',
      {
        deviceId: 'KZ-KORDAI/desk-1',
        keyId: 'AAAAAAAAAAAAAAAAAAAAAA',
        reason: 'lost',
      },
      { after: w.directory.head },
    );
    expect(refusal(w, unknownKey)).toBe('STATEMENT_CONFLICT');
  });
});

describe('only what the authority signed enters the directory', () => {
  it('a statement whose payload was altered is refused', async () => {
    const w = await buildWorld();
    const statement = await office(w, 'TJ-PANJ', 'TJ');
    for (const bit of [0, 100, 200]) {
      const payload = flipBit(statement.payload, bit);
      expect(['STATEMENT_UNTRUSTED', 'STATEMENT_INVALID']).toContain(
        refusal(w, { ...statement, payload }),
      );
    }
    // A careful edit that keeps the JSON valid is caught by the signature.
    const edited = fromUtf8(fromBase64Url(statement.payload)).replace('TJ-PANJ', 'TJ-PANK');
    expect(refusal(w, { ...statement, payload: toBase64Url(utf8(edited)) })).toBe(
      'STATEMENT_UNTRUSTED',
    );
    expect(w.directory.office('TJ-PANJ')).toBeUndefined();
  });

  it('a statement with an altered signature is refused', async () => {
    const w = await buildWorld();
    const statement = await office(w, 'TJ-PANJ', 'TJ');
    const signature = flipBit(statement.signature, 9);
    expect(refusal(w, { ...statement, signature })).toBe('STATEMENT_UNTRUSTED');
  });

  it('a certificate cannot pass as a statement, nor an unsigned object as either', async () => {
    const w = await buildWorld();
    const keys = await enroll(w, 'KZ-KORDAI/spare-1');
    const certificate = w.directory.statements().at(-1);
    if (!certificate) throw new Error('no statements');
    const signedCertificate = JSON.parse(fromUtf8(fromBase64Url(certificate.payload)))
      .certificate as Signed;
    expect(refusal(w, signedCertificate)).toBe('STATEMENT_UNTRUSTED');
    const notAStatement = signObject(
      'liaison/v1/statement',
      { kind: 'x' },
      w.authority.signingSecretKey,
    );
    expect(refusal(w, notAStatement)).toBe('STATEMENT_INVALID');
    for (const junk of [null, {}, { payload: 'A', signature: 'B' }]) {
      expect(refusal(w, junk as unknown as Signed)).toBe('STATEMENT_INVALID');
    }
    expect(w.directory.usableKey(keys.deviceId, keys.keyId, NOW).deviceId).toBe(keys.deviceId);
  });
});
