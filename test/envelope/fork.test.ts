import { beforeAll, describe, expect, it } from 'vitest';
import type { Signed } from '../../protocol/v1/certificate.js';
import { generateDeviceKeys } from '../../src/crypto/keys.js';
import { signStatement } from '../../src/crypto/statement.js';
import { Directory } from '../../src/directory/directory.js';
import { openEnvelope } from '../../src/envelope/open.js';
import { sealEnvelope } from '../../src/envelope/seal.js';
import { rejectionCode } from '../fixtures/forge.js';
import { buildWorld, DAY, device, NOW, type World } from '../fixtures/world.js';

// A hostile gateway (or the Redis behind it) serves the border's two sides different directory
// logs: both validly signed by the authority, diverging after the same version (the authority
// key is assumed honest; a split-view needs it to sign both branches, or a withheld statement).
// Every envelope names the head its sender sealed against, signed: the other side notices.

let world: World;
/** Ak-Zhol's view: the authority's log with a new device at the next version. */
let akzhol: Directory;
/** Kordai's view: the same log up to there, then another statement at that version. */
let kordai: Directory;
let shared: number;

const copyOf = (signed: readonly Signed[]) => {
  const directory = new Directory(world.directory.authority);
  directory.applyAll(signed);
  return directory;
};

beforeAll(async () => {
  world = await buildWorld();
  shared = world.directory.version;
  const branch = async (deviceId: string) =>
    world.certify(await generateDeviceKeys(deviceId), 'device', {
      notBefore: NOW - DAY,
      notAfter: NOW + DAY,
    });
  akzhol = copyOf([...world.directory.statements(), await branch('KG-AKZHOL/desk-2')]);
  const other = await signStatement(
    world.authority,
    'link.removed',
    { offices: ['KG-AKZHOL', 'KZ-KORDAI'] },
    { issuedAt: NOW - 1000, after: world.directory.head },
  );
  kordai = copyOf([...world.directory.statements(), other]);
  expect(akzhol.version).toBe(kordai.version);
});

const chatFrom = (directory: Directory) =>
  sealEnvelope({
    sender: device(world, 'KZ-KORDAI/desk-1'),
    to: ['KG-AKZHOL'],
    body: { type: 'chat', text: 'Which directory are you on?' },
    recipients: world.directory.recipientKeys(['KG-AKZHOL'], NOW),
    counter: 1,
    directory: directory.head,
    createdAt: NOW - 2000,
  });

describe('an envelope names the directory head its sender sealed against', () => {
  it('a recipient served another branch at that version refuses it as a fork', async () => {
    // Kordai's desk seals against the head it was served.
    const onFork = await chatFrom(kordai);
    expect(onFork.header.directory.version).toBe(akzhol.version);
    const reader = device(world, 'KG-AKZHOL/desk-1');
    expect(await rejectionCode(openEnvelope(onFork, reader, akzhol, NOW))).toBe('DIRECTORY_FORK');
    // The hub, on the authority's own branch, sees the same.
    const hub = device(world, 'CARICC/hub');
    expect(await rejectionCode(openEnvelope(onFork, hub, akzhol, NOW))).toBe('DIRECTORY_FORK');
  });

  it('the head cannot be swapped by the gateway: it is under the signature', async () => {
    const envelope = await chatFrom(kordai);
    const swapped = { ...envelope, header: { ...envelope.header, directory: akzhol.head } };
    const reader = device(world, 'KG-AKZHOL/desk-1');
    expect(await rejectionCode(openEnvelope(swapped, reader, akzhol, NOW))).toBe(
      'SIGNATURE_INVALID',
    );
  });

  it('a sender behind or ahead of the reader on the same log is no fork', async () => {
    const reader = device(world, 'KG-AKZHOL/desk-1');
    const behind = await chatFrom(world.directory);
    expect(behind.header.directory.version).toBe(shared);
    await expect(openEnvelope(behind, reader, akzhol, NOW)).resolves.toMatchObject({
      senderAhead: false,
    });
    const ahead = await chatFrom(akzhol);
    await expect(openEnvelope(ahead, reader, world.directory, NOW)).resolves.toMatchObject({
      senderAhead: true,
    });
  });
});
