import { beforeAll, describe, expect, it } from 'vitest';
import type { Envelope } from '../../protocol/v1/envelope.js';
import type { DeviceKeys } from '../../src/crypto/keys.js';
import type { RecipientKey } from '../../src/directory/directory.js';
import { openEnvelope, verifyEnvelope } from '../../src/envelope/open.js';
import { sealEnvelope } from '../../src/envelope/seal.js';
import { revoke, rotate } from '../fixtures/directory-changes.js';
import { rejectionCode } from '../fixtures/forge.js';
import { buildWorld, device, NOW, type World } from '../fixtures/world.js';

/** Who an envelope is wrapped for, and who can open it. */

let world: World;
/** A chat from KZ-KORDAI/desk-1 to KG-AKZHOL, created at NOW. */
let chat: Envelope;

/** A chat from Kordai's desk to Ak-Zhol, wrapped for exactly `recipients`. */
const chatFor = (w: World, recipients: readonly RecipientKey[], createdAt = NOW) =>
  sealEnvelope({
    sender: device(w, 'KZ-KORDAI/desk-1'),
    to: ['KG-AKZHOL'],
    body: { type: 'chat', text: 'Who reads this?' },
    recipients,
    counter: 1,
    directory: w.directory.head,
    createdAt,
  });

const toAkzhol = (w: World, at = NOW) => w.directory.recipientKeys(['KG-AKZHOL'], at);
const withoutHub = (keys: readonly RecipientKey[]) =>
  keys.filter((r) => r.deviceId !== 'CARICC/hub');

const refusal = (input: unknown, deviceId: string, w: World = world, now = NOW) =>
  rejectionCode(openEnvelope(input, device(w, deviceId), w.directory, now));

beforeAll(async () => {
  world = await buildWorld();
  chat = await chatFor(world, toAkzhol(world));
});

describe('only the devices an envelope is wrapped for can open it', () => {
  it('every device of the addressed office and the hub can open it', async () => {
    for (const id of ['KG-AKZHOL/desk-1', 'KG-AKZHOL/duty-1', 'CARICC/hub']) {
      const opened = await openEnvelope(chat, device(world, id), world.directory, NOW);
      expect(opened.body).toEqual({ type: 'chat', text: 'Who reads this?' });
    }
  });

  it('an office that is not addressed cannot open it', async () => {
    expect(await refusal(chat, 'UZ-OYBEK/desk-1')).toBe('NOT_A_RECIPIENT');
  });

  it("the sender's other devices cannot open it unless it was wrapped for them", async () => {
    expect(await refusal(chat, 'KZ-KORDAI/duty-1')).toBe('NOT_A_RECIPIENT');
    const withCopy = await chatFor(
      world,
      world.directory.recipientKeys(['KG-AKZHOL', 'KZ-KORDAI'], NOW),
    );
    const opened = await openEnvelope(
      withCopy,
      device(world, 'KZ-KORDAI/duty-1'),
      world.directory,
      NOW,
    );
    expect(opened.sender.deviceId).toBe('KZ-KORDAI/desk-1');
  });

  it('an analyst reads the record through the hub, not from the envelope', async () => {
    expect(await refusal(chat, 'CARICC/analyst-1')).toBe('NOT_A_RECIPIENT');
  });

  it('a key wrapped for an office the envelope does not address is refused', async () => {
    const stray = await chatFor(
      world,
      world.directory.recipientKeys(['KG-AKZHOL', 'UZ-OYBEK'], NOW),
    );
    await expect(verifyEnvelope(stray, world.directory, NOW)).rejects.toMatchObject({
      code: 'RECIPIENTS_MISMATCH',
      details: { deviceId: 'UZ-OYBEK/desk-1' },
    });
    expect(await refusal(stray, 'KG-AKZHOL/desk-1')).toBe('RECIPIENTS_MISMATCH');
  });
});

describe('CARICC is always a recipient', () => {
  it('an envelope that leaves the hub out is refused, by the gateway check and on open', async () => {
    const secret = await chatFor(world, withoutHub(toAkzhol(world)));
    await expect(verifyEnvelope(secret, world.directory, NOW)).rejects.toMatchObject({
      code: 'HUB_NOT_RECIPIENT',
    });
    expect(await refusal(secret, 'KG-AKZHOL/desk-1')).toBe('HUB_NOT_RECIPIENT');
  });

  it('an envelope wrapped for an analyst instead of the hub is refused', async () => {
    const analyst: DeviceKeys = device(world, 'CARICC/analyst-1');
    const envelope = await chatFor(world, [...withoutHub(toAkzhol(world)), analyst]);
    expect(await refusal(envelope, 'KG-AKZHOL/desk-1')).toBe('HUB_NOT_RECIPIENT');
  });

  it("after the hub rotates, only the hub key of the envelope's day counts", async () => {
    const w = await buildWorld();
    const oldHub = device(w, 'CARICC/hub');
    const before = await chatFor(w, toAkzhol(w), NOW);
    const stale = await chatFor(w, toAkzhol(w), NOW + 2000);
    const newHub = await rotate(w, oldHub, NOW + 1000, 'hub');
    const later = NOW + 3000;

    await expect(verifyEnvelope(before, w.directory, later)).resolves.toBeDefined();
    expect(await refusal(stale, 'KG-AKZHOL/desk-1', w, later)).toBe('HUB_NOT_RECIPIENT');
    const fresh = await chatFor(w, toAkzhol(w, later), later);
    expect(fresh.recipients.map((r) => r.keyId)).toContain(newHub.keyId);
    const opened = await openEnvelope(fresh, newHub, w.directory, later);
    expect(opened.sender.deviceId).toBe('KZ-KORDAI/desk-1');
  });

  it('an envelope wrapped for the hub key of its day still opens after that key is revoked', async () => {
    const w = await buildWorld();
    const envelope = await chatFor(w, toAkzhol(w));
    await revoke(w, 'CARICC/hub');
    const opened = await openEnvelope(envelope, device(w, 'KG-AKZHOL/desk-1'), w.directory, NOW);
    expect(opened.sender.deviceId).toBe('KZ-KORDAI/desk-1');
    // New envelopes have no hub to wrap for, so they are refused.
    const orphan = await chatFor(w, toAkzhol(w));
    expect(orphan.recipients.map((r) => r.deviceId)).not.toContain('CARICC/hub');
    expect(await refusal(orphan, 'KG-AKZHOL/desk-1', w)).toBe('HUB_NOT_RECIPIENT');
  });
});
