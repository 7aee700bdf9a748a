import { beforeAll, describe, expect, it } from 'vitest';
import type { Signed } from '../../protocol/v1/certificate.js';
import { generateAuthorityKeys } from '../../src/crypto/keys.js';
import { type LogPosition, signDirectoryHead, signStatement } from '../../src/crypto/statement.js';
import { Directory } from '../../src/directory/directory.js';
import { isLiaisonError } from '../../src/errors.js';
import { buildWorld, DAY, NOW, type World } from '../fixtures/world.js';

// Whoever stores or serves the directory (the gateway, anyone who can write to Redis) tries to
// hide a revocation, reorder the log, or show two offices two different directories.

let world: World;
/** The world's log plus a revocation of KZ-KORDAI/duty-1 at its end. */
let log: Signed[];

beforeAll(async () => {
  world = await buildWorld();
  const revocation = await signStatement(
    world.authority,
    'device.revoked',
    { deviceId: 'KZ-KORDAI/duty-1', reason: 'lost' },
    { after: world.directory.head },
  );
  world.directory.apply(revocation);
  log = [...world.directory.statements()];
});

const fresh = () => new Directory(world.directory.authority);
const head = (position: LogPosition, expiresAt = NOW + DAY) =>
  signDirectoryHead(world.authority, position, { issuedAt: NOW - 1000, expiresAt });

function codeOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    if (isLiaisonError(error)) return error.code;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('the directory log cannot be cut, reordered or forked unnoticed', () => {
  it('replaying the log rebuilds it, and a repeated statement changes nothing', () => {
    const directory = fresh();
    directory.applyAll(log);
    expect(directory.head).toEqual(world.directory.head);
    expect(directory.apply(log[3] as Signed)).toBe(false);
    expect(directory.version).toBe(log.length);
  });

  it('a statement deleted from the middle of the log stops everything after it', () => {
    const directory = fresh();
    const cut = [...log.slice(0, 4), ...log.slice(5)];
    expect(codeOf(() => directory.applyAll(cut))).toBe('STATEMENT_OUT_OF_ORDER');
    expect(directory.version).toBe(4);
  });

  it('two statements swapped are refused', () => {
    const directory = fresh();
    const swapped = [...log.slice(0, 2), log[3], log[2], ...log.slice(4)] as Signed[];
    expect(codeOf(() => directory.applyAll(swapped))).toBe('STATEMENT_OUT_OF_ORDER');
  });

  it('another statement at a position already applied is refused (a fork of the log)', async () => {
    const directory = fresh();
    directory.applyAll(log);
    const rival = await signStatement(
      world.authority,
      'link.removed',
      { offices: ['KG-AKZHOL', 'KZ-KORDAI'] },
      { after: directory.positionAt(log.length - 1) as LogPosition },
    );
    expect(codeOf(() => directory.apply(rival))).toBe('STATEMENT_OUT_OF_ORDER');
  });

  it('a revocation withheld at the end of the log is caught by the signed head', async () => {
    const signedHead = await head(world.directory.head);
    const withheld = fresh();
    withheld.applyAll(log.slice(0, -1));
    expect(withheld.usableKey('KZ-KORDAI/duty-1', keyOf('KZ-KORDAI/duty-1'), NOW)).toBeDefined();
    expect(codeOf(() => withheld.checkHead(signedHead, NOW))).toBe('DIRECTORY_HEAD_INVALID');
    const complete = fresh();
    complete.applyAll(log);
    expect(complete.checkHead(signedHead, NOW)).toMatchObject({ version: log.length });
  });

  it('an old head stops vouching when it expires: withholding lasts at most that long', async () => {
    const withheld = fresh();
    withheld.applyAll(log.slice(0, -1));
    const oldHead = await head(withheld.head, NOW + DAY);
    expect(withheld.checkHead(oldHead, NOW)).toMatchObject({ version: log.length - 1 });
    expect(codeOf(() => withheld.checkHead(oldHead, NOW + DAY))).toBe('DIRECTORY_HEAD_EXPIRED');
  });

  it('two offices served different logs of one version: the head shows the fork', async () => {
    const signedHead = await head(world.directory.head);
    const forked = fresh();
    forked.applyAll(log.slice(0, -1));
    forked.apply(
      await signStatement(
        world.authority,
        'link.removed',
        { offices: ['KG-AKZHOL', 'KZ-KORDAI'] },
        { after: forked.head },
      ),
    );
    expect(forked.version).toBe(log.length);
    expect(codeOf(() => forked.checkHead(signedHead, NOW))).toBe('DIRECTORY_FORK');
  });

  it('a head signed by anyone but the authority is refused', async () => {
    const impostor = await generateAuthorityKeys();
    const forged = await signDirectoryHead(impostor, world.directory.head, {
      issuedAt: NOW,
      expiresAt: NOW + DAY,
    });
    const directory = fresh();
    directory.applyAll(log);
    expect(codeOf(() => directory.checkHead(forged, NOW))).toBe('DIRECTORY_HEAD_INVALID');
  });

  it('statements the authority signed after its last head are accepted with that head', async () => {
    const directory = fresh();
    directory.applyAll(log);
    const earlier = await head(directory.positionAt(log.length - 1) as LogPosition);
    expect(directory.checkHead(earlier, NOW)).toMatchObject({ version: log.length - 1 });
  });
});

const keyOf = (deviceId: string) => {
  const keys = world.devices[deviceId];
  if (!keys) throw new Error(`no device ${deviceId}`);
  return keys.keyId;
};

describe('what a directory is fed is checked before it costs anything', () => {
  it('a statement whose payload is not base64url is refused with a code', () => {
    const directory = fresh();
    const garbage = { payload: '*not base64*', signature: (log[0] as Signed).signature };
    expect(codeOf(() => directory.apply(garbage))).toBe('STATEMENT_INVALID');
  });
});
