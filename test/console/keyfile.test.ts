import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
    const file = await sealConsoleKey(keys, 'open sesame', meta, 100_000);
    expect(JSON.stringify(file)).not.toContain('open sesame');
    const opened = await openConsoleKey(file, 'open sesame');
    expect(opened.keys).toEqual(keys);
    expect(opened.vaultKey).toHaveLength(32);
    await expect(openConsoleKey(file, 'open sesame!')).rejects.toBeInstanceOf(WrongPassphrase);
  });

  it('refuse a swapped authority pin, even with the right passphrase', async () => {
    const world = await buildWorld();
    const keys = device(world, 'KG-AKZHOL/desk-1');
    const file = await sealConsoleKey(
      keys,
      'open sesame',
      {
        deviceId: keys.deviceId,
        role: 'device',
        authority: publishAuthority(world.authority, 'test authority'),
        gateway: { audience: 'liaison-gateway' },
      },
      100_000,
    );
    const impostor = publishAuthority(await generateAuthorityKeys(), 'test authority');
    const swapped = ConsoleKeyFile.parse({ ...file, authority: impostor });
    await expect(openConsoleKey(swapped, 'open sesame')).rejects.toBeInstanceOf(WrongPassphrase);
    const otherAudience = { ...file, gateway: { audience: 'evil-gateway' } };
    await expect(openConsoleKey(otherAudience, 'open sesame')).rejects.toBeInstanceOf(
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
