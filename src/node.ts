/**
 * Liaison's SDK for Node: everything in `liaison`, plus reading key files from disk.
 *
 * @example
 * import { LiaisonClient, readDeviceKey, readPinnedAuthority } from 'liaison/node';
 * const { keys } = await readDeviceKey('keys/dev/devices/KG-AKZHOL/duty-1.key');
 * const authority = await readPinnedAuthority('keys/dev/authority.pub.json');
 */

export * from './index.js';
export { readDeviceKey, readPinnedAuthority } from './keystore/keyfile.js';
