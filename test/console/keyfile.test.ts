import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import native from 'sodium-native';
import { describe, expect, it } from 'vitest';
import { publishAuthority } from '../../src/crypto/certificate.js';
import { generateAuthorityKeys } from '../../src/crypto/keys.js';
import {
  ConsoleKeyFile,
  openConsoleKey,
  sealConsoleKey,
  WrongPassphrase,
} from '../../src/keystore/console-key.js';
import {
  DEV_CONSOLE_DEVICES,
  DEV_CONSOLE_PASSPHRASE,
  generateDevKeySet,
  keySetPaths,
} from '../../src/keystore/devset.js';
import { readDeviceKey } from '../../src/keystore/keyfile.js';
import { buildWorld, device } from '../fixtures/world.js';

describe('Console key files', () => {
  it('open with their passphrase into the same device keys, and not with another', async () => {
    const world = await buildWorld();
    const keys = device(world, 'KZ-KORDAI/desk-1');
    const meta = {
      deviceId: keys.deviceId,
      role: 'device' as const,
      authority: publishAuthority(world.authority, 'test authority'),
      gateway: { audience: 'liaison-gateway' },
    };
    const file = await sealConsoleKey(keys, 'open sesame', meta);
    expect(file.kdf).toMatchObject({ name: 'argon2id13', opslimit: 2, memlimit: 64 * 1024 * 1024 });
    expect(JSON.stringify(file)).not.toContain('open sesame');
    const opened = await openConsoleKey(file, 'open sesame');
    expect(opened.keys).toEqual(keys);
    expect(opened.vaultKey).toHaveLength(32);
    await expect(openConsoleKey(file, 'open sesame!')).rejects.toBeInstanceOf(WrongPassphrase);
  });

  it('refuse a swapped authority pin, even with the right passphrase', async () => {
    const world = await buildWorld();
    const keys = device(world, 'KG-AKZHOL/desk-1');
    const file = await sealConsoleKey(keys, 'open sesame', {
      deviceId: keys.deviceId,
      role: 'device',
      authority: publishAuthority(world.authority, 'test authority'),
      gateway: { audience: 'liaison-gateway' },
    });
    const impostor = publishAuthority(await generateAuthorityKeys(), 'test authority');
    const swapped = ConsoleKeyFile.parse({ ...file, authority: impostor });
    await expect(openConsoleKey(swapped, 'open sesame')).rejects.toBeInstanceOf(WrongPassphrase);
    const otherAudience = { ...file, gateway: { audience: 'evil-gateway' } };
    await expect(openConsoleKey(otherAudience, 'open sesame')).rejects.toBeInstanceOf(
      WrongPassphrase,
    );
  });

  it('derive exactly what libsodium’s crypto_pwhash (Argon2id) derives, so an integrator rebuilds it', async () => {
    const world = await buildWorld();
    const keys = device(world, 'KZ-KORDAI/desk-1');
    const file = await sealConsoleKey(keys, 'open sesame', {
      deviceId: keys.deviceId,
      role: 'device',
      authority: publishAuthority(world.authority, 'test authority'),
      gateway: { audience: 'liaison-gateway' },
    });
    if (file.kdf.name !== 'argon2id13') throw new Error('a new file is Argon2id');
    const derived = Buffer.alloc(64);
    native.crypto_pwhash(
      derived,
      Buffer.from('open sesame'),
      Buffer.from(file.kdf.salt, 'base64url'),
      file.kdf.opslimit,
      file.kdf.memlimit,
      native.crypto_pwhash_ALG_ARGON2ID13,
    );
    const { vaultKey } = await openConsoleKey(file, 'open sesame');
    expect(Buffer.from(vaultKey).toString('hex')).toBe(derived.subarray(32).toString('hex'));
    const opened = native.crypto_aead_xchacha20poly1305_ietf_decrypt;
    const plain = Buffer.alloc(Buffer.from(file.ciphertext, 'base64url').length - 16);
    opened(
      plain,
      null,
      Buffer.from(file.ciphertext, 'base64url'),
      Buffer.from(
        JSON.stringify([
          file.v,
          file.type,
          file.deviceId,
          file.role,
          file.authority,
          file.gateway,
          file.hub ?? null,
          file.kdf,
        ]),
      ),
      Buffer.from(file.nonce, 'base64url'),
      derived.subarray(0, 32),
    );
    expect(JSON.parse(plain.toString('utf8')).keyId).toBe(keys.keyId);
  });

  it('made before with PBKDF2 still open', async () => {
    // Written by the Console key code of before (PBKDF2-SHA256, 100,000 iterations).
    const legacy = JSON.parse(
      await readFile(
        join(import.meta.dirname, '..', 'fixtures', 'console-key-pbkdf2.json'),
        'utf8',
      ),
    );
    const file = ConsoleKeyFile.parse(legacy.file);
    expect(file.kdf.name).toBe('PBKDF2-SHA256');
    expect((await openConsoleKey(file, legacy.passphrase)).keys.keyId).toBe(legacy.keyId);
    await expect(openConsoleKey(file, `${legacy.passphrase}?`)).rejects.toBeInstanceOf(
      WrongPassphrase,
    );
  });

  // A whole development key set: seconds on a busy machine.
  it('come ready to import in the development key set: two linked offices and an analyst', {
    timeout: 120_000,
  }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'liaison-devset-'));
    try {
      await generateDevKeySet(dir);
      const paths = keySetPaths(dir);
      const pinned = JSON.parse(await readFile(paths.authorityPublic, 'utf8'));
      for (const deviceId of DEV_CONSOLE_DEVICES) {
        const file = ConsoleKeyFile.parse(
          JSON.parse(await readFile(paths.consoleKey(deviceId), 'utf8')),
        );
        expect(file.authority).toEqual(pinned);
        expect(file.role).toBe(deviceId.startsWith('CARICC/') ? 'analyst' : 'device');
        const { keys } = await openConsoleKey(file, DEV_CONSOLE_PASSPHRASE);
        expect(keys).toEqual((await readDeviceKey(paths.deviceKey(deviceId))).keys);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
