import { describe, expect, it } from 'vitest';
import { signDirectoryHead, signStatement } from '../../src/crypto/statement.js';
import { Directory } from '../../src/directory/directory.js';
import { acceptHead } from '../../src/directory/head.js';
import { rejectionCode } from '../fixtures/forge.js';
import { buildWorld, DAY, NOW } from '../fixtures/world.js';

// What a device remembers of the directory heads it accepted, against a gateway that serves
// another office a different log, takes the head away, or serves an old one.

const refusal = (run: () => unknown) => rejectionCode(Promise.resolve().then(run));

describe('a device keeps the newest directory head it accepted', () => {
  it('first contact without any head is taken as served; a head then becomes what it keeps', async () => {
    const w = await buildWorld();
    expect(acceptHead(w.directory, undefined, undefined, NOW)).toBeUndefined();
    const head = await signDirectoryHead(w.authority, w.directory.head, {
      issuedAt: NOW,
      expiresAt: NOW + DAY,
    });
    expect(acceptHead(w.directory, head, undefined, NOW)).toEqual({
      ...w.directory.head,
      issuedAt: NOW,
    });
  });

  it('a gateway that stops serving heads, or serves an older one, is refused', async () => {
    const w = await buildWorld();
    const old = await signDirectoryHead(w.authority, w.directory.head, {
      issuedAt: NOW - 1000,
      expiresAt: NOW + DAY,
    });
    const fresh = await signDirectoryHead(w.authority, w.directory.head, {
      issuedAt: NOW,
      expiresAt: NOW + DAY,
    });
    const known = acceptHead(w.directory, fresh, undefined, NOW);
    expect(await refusal(() => acceptHead(w.directory, undefined, known, NOW))).toBe(
      'DIRECTORY_ROLLBACK',
    );
    expect(await refusal(() => acceptHead(w.directory, old, known, NOW))).toBe(
      'DIRECTORY_ROLLBACK',
    );
  });

  it('a device shown another log than before, at a version it knew, sees the fork', async () => {
    const w = await buildWorld();
    const served = new Directory(w.directory.authority);
    served.applyAll(w.directory.statements().slice(0, -1));
    const rival = await signStatement(
      w.authority,
      'office.registered',
      { officeId: 'TJ-PANJ', country: 'TJ', name: 'BLO Panji Poyon', bcp: 'Panji Poyon' },
      { after: served.head },
    );
    served.apply(rival);
    const head = await signDirectoryHead(w.authority, w.directory.head, {
      issuedAt: NOW,
      expiresAt: NOW + DAY,
    });
    const known = acceptHead(w.directory, head, undefined, NOW);
    expect(await refusal(() => acceptHead(served, undefined, known, NOW))).toBe('DIRECTORY_FORK');
  });

  it('an expired head is refused with its own code', async () => {
    const w = await buildWorld();
    const head = await signDirectoryHead(w.authority, w.directory.head, {
      issuedAt: NOW - 2 * DAY,
      expiresAt: NOW - DAY,
    });
    expect(await refusal(() => acceptHead(w.directory, head, undefined, NOW))).toBe(
      'DIRECTORY_HEAD_EXPIRED',
    );
  });
});
