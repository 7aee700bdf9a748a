import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArchiveKeyFile } from '../../protocol/v1/prekey.js';
import { keysCommand } from '../../src/cli/keys.js';
import { toBase64Url } from '../../src/crypto/sodium.js';
import { generateDevKeySet } from '../../src/keystore/devset.js';
import { readDeviceKey } from '../../src/keystore/keyfile.js';
import { liaison as run } from '../fixtures/cli.js';

/** Runs the CLI from source as a separate process, as a user would run `liaison`. */
const liaison = (...args: string[]) =>
  run(args, { cwd: dir, env: { ...process.env, CA_PASSPHRASE, DEVICE_PASSPHRASE } });

/**
 * The same command in this process, for the set-up a test needs but does not test (a process
 * start costs seconds on a busy machine; the commands under test still run as processes).
 */
const inProcess = (...args: string[]) => keysCommand(args, () => undefined);
const at = (path: string) => join(dir, path);

// Sealed key files at Argon2id's INTERACTIVE level (the floor), to spare a shared machine.
const CA_PASSPHRASE = 'authority passphrase for the CLI test';
const DEVICE_PASSPHRASE = 'device passphrase for the CLI test';
const SEAL = ['--kdf', 'interactive'];
const AUTHORITY_PASSPHRASE = ['--authority-passphrase-env', 'CA_PASSPHRASE'];
const DEVICE_SEAL = ['--passphrase-env', 'DEVICE_PASSPHRASE', ...SEAL];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'liaison-cli-'));
  // The set-up run in this process reads the passphrases from its own environment.
  process.env.CA_PASSPHRASE = CA_PASSPHRASE;
  process.env.DEVICE_PASSPHRASE = DEVICE_PASSPHRASE;
  // The demo's key set, made in this process: its 20 devices are not what the demo test checks.
  await generateDevKeySet(join(dir, 'dev'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('liaison keys', () => {
  // Building a directory by hand takes nine CLI processes: three tests of three, in order, each
  // within the default limit on a busy machine (a process starts in about a second there).
  const ok = async (...args: string[]) => {
    const result = await liaison('keys', ...args);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    return result.stdout;
  };
  const auth = [
    '--authority',
    'ca/authority.key',
    '--directory',
    'ca/directory.json',
    ...AUTHORITY_PASSPHRASE,
  ];

  it('builds a directory by hand: an authority and two offices across a border', async () => {
    expect(
      await ok('authority', '--dir', 'ca', '--passphrase-env', 'CA_PASSPHRASE', ...SEAL),
    ).toContain('authority.pub.json');
    await ok(
      'office',
      ...auth,
      '--office',
      'TJ-PANJ',
      '--name',
      'BLO Panji Poyon',
      '--bcp',
      'Panji Poyon',
    );
    await ok(
      'office',
      ...auth,
      '--office',
      'AF-SHERKHAN',
      '--name',
      'BLO Sher Khan',
      '--bcp',
      'Sher Khan Bandar',
    );
  });

  it('builds a directory by hand: a device with a sealed key, a link, a rotation', async () => {
    await ok(
      'issue',
      ...auth,
      '--device',
      'TJ-PANJ/desk-1',
      '--out',
      'ca/panj.key',
      ...DEVICE_SEAL,
    );
    await ok('link', ...auth, 'TJ-PANJ', 'AF-SHERKHAN');
    expect(
      await ok('rotate', ...auth, '--key', 'ca/panj.key', '--out', 'ca/panj-2.key', ...DEVICE_SEAL),
    ).toContain('replaces');
  });

  it('builds a directory by hand: a revocation, and the rotated key still verifies', async () => {
    await ok('revoke', ...auth, '--device', 'TJ-PANJ/desk-1', '--reason', 'lost');
    expect(await ok('verify', 'ca/panj-2.key', '--root', 'ca/authority.pub.json')).toContain(
      'valid certificate of TJ-PANJ/desk-1',
    );
    const directory = JSON.parse(await readFile(join(dir, 'ca', 'directory.json'), 'utf8'));
    expect(directory.statements).toHaveLength(6);
    expect((await stat(join(dir, 'ca', 'panj-2.key'))).mode & 0o777).toBe(0o600);
  });

  it('keys archive makes CARICC’s archive key: the secret half sealed, the public half for the hub', async () => {
    const { stdout, code } = await liaison(
      'keys',
      'archive',
      '--out',
      'ca/archive.key',
      '--public-out',
      'ca/archive.pub.json',
      ...DEVICE_SEAL,
    );
    expect(code).toBe(0);
    expect(stdout).toContain('keep it offline');
    const published = ArchiveKeyFile.parse(
      JSON.parse(await readFile(join(dir, 'ca', 'archive.pub.json'), 'utf8')),
    );
    expect((await stat(join(dir, 'ca', 'archive.key'))).mode & 0o777).toBe(0o600);
    const { keys } = await readDeviceKey(join(dir, 'ca', 'archive.key'), {
      env: 'DEVICE_PASSPHRASE',
    });
    expect(toBase64Url(keys.encryptionPublicKey)).toBe(published.publicKey);
  });

  it('inspect shows a sealed key file without its sealed part', async () => {
    const { stdout, code } = await liaison('keys', 'inspect', 'ca/panj.key');
    expect(code).toBe(0);
    expect(stdout).toContain('"id": "TJ-PANJ/desk-1"');
    expect(stdout).toContain('"secrets": "sealed"');
    const sealed = JSON.parse(await readFile(join(dir, 'ca', 'panj.key'), 'utf8')).ciphertext;
    expect(stdout).not.toContain(sealed);
  });

  it('inspect shows a plaintext key file without its seeds', async () => {
    // A development key set's files are plaintext (the one beforeAll made in this process).
    const file = join('dev', 'devices', 'KZ-KORDAI', 'desk-1.key');
    const { stdout, code } = await liaison('keys', 'inspect', file);
    expect(code).toBe(0);
    expect(stdout).toContain('"secrets": "hidden"');
    const plain = JSON.parse(await readFile(join(dir, file), 'utf8'));
    expect(stdout).not.toContain(plain.signingSeed);
    expect(stdout).not.toContain(plain.encryptionSeed);
  });

  it('refuses to overwrite a private key, and says so', async () => {
    const before = await readFile(join(dir, 'ca', 'panj.key'), 'utf8');
    const result = await liaison(
      'keys',
      'issue',
      '--authority',
      'ca/authority.key',
      '--directory',
      'ca/directory.json',
      '--device',
      'TJ-PANJ/desk-2',
      '--out',
      'ca/panj.key',
      ...AUTHORITY_PASSPHRASE,
      ...DEVICE_SEAL,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/refusing to overwrite/);
    expect(await readFile(join(dir, 'ca', 'panj.key'), 'utf8')).toBe(before);
  });

  it('refuses a link inside one country with the conflict code', async () => {
    await inProcess(
      'office',
      '--authority',
      at('ca/authority.key'),
      '--directory',
      at('ca/directory.json'),
      '--office',
      'TJ-FOTEHOBOD',
      '--name',
      'BLO Fotehobod',
      '--bcp',
      'Fotehobod',
      ...AUTHORITY_PASSPHRASE,
    );
    const result = await liaison(
      'keys',
      'link',
      '--authority',
      'ca/authority.key',
      '--directory',
      'ca/directory.json',
      'TJ-PANJ',
      'TJ-FOTEHOBOD',
      ...AUTHORITY_PASSPHRASE,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('STATEMENT_CONFLICT');
  });

  it('a certificate checked against another root is untrusted', async () => {
    await inProcess('authority', '--dir', at('other'), '--insecure-plaintext');
    const result = await liaison(
      'keys',
      'verify',
      'ca/panj.key',
      '--root',
      'other/authority.pub.json',
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('CERT_UNTRUSTED');
  });

  it('explains its usage on a wrong command', async () => {
    const result = await liaison('keys', 'frobnicate');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('liaison keys <command>');
  });

  // On the key set beforeAll made in this process (the demo makes one only where there is none).
  it('demo seals and opens a chat and an alert, and catches a tampered envelope', async () => {
    const result = await liaison('demo', '--dir', 'dev');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('what KG-AKZHOL/desk-1 reads');
    expect(result.stdout).toContain('SIGNATURE_INVALID');
  });
});
