import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEnvelope } from '../../src/envelope/open.js';
import { sealEnvelope } from '../../src/envelope/seal.js';
import { generateDevKeySet, HUB_DEVICE_ID, keySetPaths } from '../../src/keystore/devset.js';
import { loadDirectory } from '../../src/keystore/directory-file.js';
import { readJsonFile } from '../../src/keystore/files.js';
import { readAuthorityKey, readDeviceKey } from '../../src/keystore/keyfile.js';
import { SAMPLE_LINKS, SAMPLE_OFFICES } from '../../src/keystore/topology.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'liaison-devset-'));
  await generateDevKeySet(dir);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const mode = async (path: string) => (await stat(path)).mode & 0o777;

describe('development key set', () => {
  it('registers the sample offices, links them across real borders, and enrols hub and analyst', async () => {
    const paths = keySetPaths(dir);
    const directory = await loadDirectory(
      paths.directory,
      await readJsonFile(paths.authorityPublic),
    );
    for (const office of SAMPLE_OFFICES) expect(directory.office(office.officeId)).toBeDefined();
    for (const [a, b] of SAMPLE_LINKS) expect(directory.isLinked(a, b)).toBe(true);
    expect(directory.isLinked('KZ-KORDAI', 'UZ-OYBEK')).toBe(false);
    const keys = directory.recipientKeys(['KG-AKZHOL'], Date.now()).map((k) => k.deviceId);
    expect(keys).toEqual(['CARICC/hub', 'KG-AKZHOL/desk-1', 'KG-AKZHOL/duty-1']);
  });

  it('writes private keys readable by the owner only, in folders only the owner can enter', async () => {
    const paths = keySetPaths(dir);
    expect(await mode(paths.authorityKey)).toBe(0o600);
    expect(await mode(paths.deviceKey('KZ-KORDAI/desk-1'))).toBe(0o600);
    expect(await mode(join(dir, 'devices', 'KZ-KORDAI'))).toBe(0o700);
    expect(await readFile(paths.authorityPublic, 'utf8')).not.toContain('Seed');
    expect(await readFile(paths.directory, 'utf8')).not.toContain('Seed');
  });

  it('refuses to overwrite an existing key set', async () => {
    const before = await readFile(keySetPaths(dir).authorityKey, 'utf8');
    await expect(generateDevKeySet(dir)).rejects.toThrow(/refusing to overwrite/);
    expect(await readFile(keySetPaths(dir).authorityKey, 'utf8')).toBe(before);
  });

  it('key files load back into keys that seal and open across the Kordai–Ak-Zhol link', async () => {
    const paths = keySetPaths(dir);
    const directory = await loadDirectory(
      paths.directory,
      await readJsonFile(paths.authorityPublic),
    );
    const authority = await readAuthorityKey(paths.authorityKey);
    expect(authority.keyId).toBe(directory.authority.keyId);
    const sender = (await readDeviceKey(paths.deviceKey('KG-AKZHOL/duty-1'))).keys;
    const hub = (await readDeviceKey(paths.deviceKey(HUB_DEVICE_ID))).keys;
    const envelope = await sealEnvelope({
      sender,
      to: ['KZ-KORDAI'],
      body: { type: 'chat', text: 'Received, we will stop the convoy.' },
      recipients: directory.recipientKeys(['KZ-KORDAI'], Date.now()),
      counter: 1,
      directory: directory.head,
    });
    const opened = await openEnvelope(envelope, hub, directory);
    expect(opened.body).toEqual({ type: 'chat', text: 'Received, we will stop the convoy.' });
  });

  it('a directory file pinned to another authority is refused', async () => {
    const other = await mkdtemp(join(tmpdir(), 'liaison-devset-other-'));
    try {
      await generateDevKeySet(other);
      const foreignPin = await readJsonFile(keySetPaths(other).authorityPublic);
      await expect(loadDirectory(keySetPaths(dir).directory, foreignPin)).rejects.toMatchObject({
        code: 'STATEMENT_UNTRUSTED',
      });
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });
});
