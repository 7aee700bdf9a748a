// The benchmark's world: an authority, linked office pairs, idle offices, CARICC's hub. Every key
// is derived from one secret and the device id, so a load process rebuilds any device's keys from
// the world file alone, and the gateways learn the same world from a signed directory file.
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Country, HUB_OFFICE_ID } from '../protocol/v1/primitives.js';
import { issueCertificate, publishAuthority } from '../src/crypto/certificate.js';
import {
  type DeviceKeys,
  generateAuthorityKeys,
  generateDeviceKeys,
  type KeySeeds,
} from '../src/crypto/keys.js';
import { ready, sodium, utf8 } from '../src/crypto/sodium.js';
import { type LogPosition, StatementLog } from '../src/crypto/statement.js';
import type { RecipientKey } from '../src/directory/directory.js';
import { writeDirectoryFile } from '../src/keystore/directory-file.js';
import { writeDeviceKey } from '../src/keystore/keyfile.js';

const DAY = 24 * 60 * 60 * 1000;
export const HUB_DEVICE = `${HUB_OFFICE_ID}/hub`;
export const AUDIENCE = 'liaison-bench';

/** How many of each population the world holds. */
export interface WorldShape {
  /** Linked pairs for throughput and latency: KZ-T<i>/desk-1 sends to KG-T<i> (desk-1, duty-1). */
  readonly pairs: number;
  /** Offices KG-C<j> with two devices each, idle or reconnecting; KZ-C<j>/desk-1 sends to them. */
  readonly idleOffices: number;
}

/** What a load process needs to act as any device of the world. */
export interface WorldFile {
  readonly secret: string;
  readonly shape: WorldShape;
  /** The directory's head once written: what senders seal against. */
  readonly head?: LogPosition;
}

const pad = (n: number) => String(n).padStart(4, '0');
export const pairSender = (i: number) => `KZ-T${pad(i)}/desk-1`;
export const pairOffice = (i: number) => `KG-T${pad(i)}`;
export const pairReceiver = (i: number) => `KG-T${pad(i)}/desk-1`;
export const idleOffice = (j: number) => `KG-C${pad(j)}`;
export const idleDevices = (j: number) => [`KG-C${pad(j)}/desk-1`, `KG-C${pad(j)}/duty-1`];
export const idleSender = (j: number) => `KZ-C${pad(j)}/desk-1`;
const LABELS = ['desk-1', 'duty-1'];

/** Derives a device's seeds from the world secret: BLAKE2b keyed by the secret, per purpose. */
function seedsOf(secret: Uint8Array, deviceId: string): KeySeeds {
  const seed = (purpose: string) =>
    sodium.crypto_generichash(32, utf8(`${purpose} ${deviceId}`), secret);
  return { signing: seed('signing'), encryption: seed('encryption') };
}

/** Rebuilds device keys from a world file; caches them, since a process asks for many. */
export class WorldKeys {
  private readonly secret: Uint8Array;
  private readonly cache = new Map<string, DeviceKeys>();
  constructor(readonly file: WorldFile) {
    this.secret = Buffer.from(file.secret, 'base64url');
  }
  /** The directory head senders seal against. */
  get head(): LogPosition {
    if (!this.file.head) throw new Error('the world file has no directory head');
    return this.file.head;
  }
  async device(deviceId: string): Promise<DeviceKeys> {
    await ready;
    let keys = this.cache.get(deviceId);
    if (!keys) {
      keys = await generateDeviceKeys(deviceId, seedsOf(this.secret, deviceId));
      this.cache.set(deviceId, keys);
    }
    return keys;
  }
  /** The keys an envelope to `officeId` is wrapped for: its two devices and the hub. */
  async recipients(officeId: string): Promise<RecipientKey[]> {
    const ids = [...LABELS.map((label) => `${officeId}/${label}`), HUB_DEVICE];
    return Promise.all(
      ids.map(async (id) => {
        const keys = await this.device(id);
        return { deviceId: id, keyId: keys.keyId, encryptionPublicKey: keys.encryptionPublicKey };
      }),
    );
  }
}

export interface WorldPaths {
  readonly world: string;
  readonly authority: string;
  readonly directory: string;
  readonly hubKey: string;
}

/**
 * Writes a world into `dir`: the world file, the authority's public key, the signed directory
 * (offices, links, certificates) that gateways bootstrap from, and the hub's key file.
 */
export async function writeWorld(dir: string, shape: WorldShape): Promise<WorldPaths> {
  await ready;
  const file: WorldFile = { secret: randomBytes(32).toString('base64url'), shape };
  const keys = new WorldKeys(file);
  const authority = await generateAuthorityKeys();
  const published = publishAuthority(authority, 'benchmark authority');
  const now = Date.now();
  const at = { issuedAt: now - DAY };
  const log = new StatementLog(authority);
  const office = (officeId: string, country: Country) =>
    log.sign('office.registered', { officeId, country, name: officeId, bcp: officeId }, at);
  const enroll = async (deviceId: string, role: 'device' | 'hub') => {
    const device = await keys.device(deviceId);
    const certificate = await issueCertificate(authority, {
      role,
      deviceId,
      country: deviceId.startsWith('KG') ? 'KG' : 'KZ',
      signingPublicKey: device.signingPublicKey,
      encryptionPublicKey: device.encryptionPublicKey,
      notBefore: now - DAY,
      notAfter: now + 30 * DAY,
    });
    await log.sign('device.enrolled', { certificate }, at);
    return certificate;
  };
  const link = (a: string, b: string) =>
    log.sign('link.created', { offices: a < b ? [a, b] : [b, a] }, at);

  await office(HUB_OFFICE_ID, 'KZ');
  const hubCertificate = await enroll(HUB_DEVICE, 'hub');
  const pairOf = async (from: string, to: string) => {
    await office(from, 'KZ');
    await office(to, 'KG');
    await enroll(`${from}/desk-1`, 'device');
    for (const label of LABELS) await enroll(`${to}/${label}`, 'device');
    await link(from, to);
  };
  for (let i = 0; i < shape.pairs; i++) await pairOf(`KZ-T${pad(i)}`, pairOffice(i));
  for (let j = 0; j < shape.idleOffices; j++) await pairOf(`KZ-C${pad(j)}`, idleOffice(j));

  const paths: WorldPaths = {
    world: join(dir, 'world.json'),
    authority: join(dir, 'authority.pub.json'),
    directory: join(dir, 'directory.json'),
    hubKey: join(dir, 'hub.key'),
  };
  await writeFile(paths.world, JSON.stringify({ ...file, head: log.head }));
  await writeFile(paths.authority, JSON.stringify(published));
  await writeDirectoryFile(paths.directory, {
    v: 1,
    authority: published,
    statements: log.statements,
  });
  const hub = await keys.device(HUB_DEVICE);
  const hubSeeds = seedsOf(Buffer.from(file.secret, 'base64url'), HUB_DEVICE);
  await writeDeviceKey(
    paths.hubKey,
    hub,
    { signing: hubSeeds.signing, encryption: hubSeeds.encryption as Uint8Array },
    hubCertificate,
  );
  return paths;
}
