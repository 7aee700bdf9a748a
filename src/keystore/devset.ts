import { join } from 'node:path';
import type { Role } from '../../protocol/v1/certificate.js';
import { type Country, HUB_OFFICE_ID } from '../../protocol/v1/primitives.js';
import { publishAuthority } from '../crypto/certificate.js';
import type { DeviceKeys } from '../crypto/keys.js';
import { StatementLog } from '../crypto/statement.js';
import { sealConsoleKey } from './console-key.js';
import { writeDirectoryFile } from './directory-file.js';
import { enrollDevice } from './enroll.js';
import { exists, writePublicFile, writeSecretFile } from './files.js';
import { newSeed, writeAuthorityKey } from './keyfile.js';
import { SAMPLE_DEVICE_LABELS, SAMPLE_LINKS, SAMPLE_OFFICES } from './topology.js';

/** Where each file of a key set lives, relative to its folder. */
export const keySetPaths = (dir: string) => ({
  authorityKey: join(dir, 'authority.key'),
  authorityPublic: join(dir, 'authority.pub.json'),
  directory: join(dir, 'directory.json'),
  deviceKey: (deviceId: string) => join(dir, 'devices', `${deviceId}.key`),
  /** Ready-to-import key files for the browser Console, sealed under DEV_CONSOLE_PASSPHRASE. */
  consoleKey: (deviceId: string) => join(dir, 'console', `${deviceId.replace('/', '.')}.key`),
});

/** The development Console key files' passphrase (development only: it is written down here). */
export const DEV_CONSOLE_PASSPHRASE = 'liaison-dev';
/** The devices a newcomer opens in three browser windows: two linked offices and an analyst. */
export const DEV_CONSOLE_DEVICES = ['KZ-KORDAI/desk-1', 'KG-AKZHOL/desk-1', 'CARICC/analyst-1'];

export const HUB_DEVICE_ID = `${HUB_OFFICE_ID}/hub`;
export const ANALYST_DEVICE_ID = `${HUB_OFFICE_ID}/analyst-1`;

/**
 * Generates a complete development key set (DEVELOPMENT ONLY: every private key in plaintext, the
 * authority beside the devices, the devices' keys made by the authority): an authority, the sample offices with two devices
 * each, their links, CARICC's hub and one analyst. Refuses to touch a folder that has one.
 */
export async function generateDevKeySet(dir: string, now = Date.now()): Promise<string[]> {
  const paths = keySetPaths(dir);
  if (await exists(paths.authorityKey)) {
    throw new Error(`refusing to overwrite ${paths.authorityKey}: a key set already exists`);
  }
  const authority = await writeAuthorityKey(
    paths.authorityKey,
    'CARICC development authority',
    await newSeed(),
    // Development only: the whole set is plaintext, so the quick start needs no passphrase.
    'insecure-plaintext',
  );
  const published = publishAuthority(authority, authority.name);
  await writePublicFile(paths.authorityPublic, `${JSON.stringify(published, null, 2)}\n`);

  const log = new StatementLog(authority);
  const at = { issuedAt: now };
  await log.sign(
    'office.registered',
    { officeId: HUB_OFFICE_ID, country: 'KZ', name: 'CARICC hub, Almaty', bcp: 'Almaty' },
    at,
  );
  for (const office of SAMPLE_OFFICES) await log.sign('office.registered', { ...office }, at);
  const devices: string[] = [];
  const keysOf = new Map<string, DeviceKeys>();
  const enroll = async (deviceId: string, country: Country, role: Role) => {
    const { statement, keys } = await enrollDevice(authority, {
      deviceId,
      country,
      role,
      days: 365,
      keyPath: paths.deviceKey(deviceId),
      protection: 'insecure-plaintext',
      now,
      after: log.head,
    });
    log.append(statement);
    devices.push(deviceId);
    keysOf.set(deviceId, keys);
  };
  await enroll(HUB_DEVICE_ID, 'KZ', 'hub');
  await enroll(ANALYST_DEVICE_ID, 'KZ', 'analyst');
  for (const office of SAMPLE_OFFICES) {
    for (const label of SAMPLE_DEVICE_LABELS) {
      await enroll(`${office.officeId}/${label}`, office.country, 'device');
    }
  }
  for (const offices of SAMPLE_LINKS) {
    await log.sign('link.created', { offices: [...offices] as [string, string] }, at);
  }
  await writeDirectoryFile(paths.directory, {
    v: 1,
    authority: published,
    statements: log.statements,
  });
  for (const deviceId of DEV_CONSOLE_DEVICES) {
    const keys = keysOf.get(deviceId) as DeviceKeys;
    const analyst = deviceId === ANALYST_DEVICE_ID;
    const file = await sealConsoleKey(keys, DEV_CONSOLE_PASSPHRASE, {
      deviceId,
      role: analyst ? 'analyst' : 'device',
      authority: published,
      gateway: { audience: 'liaison-gateway' },
      ...(analyst ? { hub: { url: 'http://127.0.0.1:8090', audience: 'liaison-hub' } } : {}),
    });
    await writeSecretFile(paths.consoleKey(deviceId), `${JSON.stringify(file, null, 2)}\n`);
  }
  return devices;
}
