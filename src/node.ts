/**
 * Liaison's SDK for Node: everything in `liaison` (on native libsodium), plus reading key files from disk (sealed ones
 * open with a passphrase source: `{ env: NAME }`, `{ fd: N }`, `{ terminal: true }`, `{ value }`).
 *
 * @example
 * import { LiaisonClient, readDeviceKey, readPinnedAuthority } from 'liaison/node';
 * const { keys } = await readDeviceKey('desk-1.key', { env: 'LIAISON_PASSPHRASE' });
 * const authority = await readPinnedAuthority('keys/dev/authority.pub.json');
 */

import { useNativeCrypto } from './crypto/native-backend.js';

// The Node SDK opens envelopes on native libsodium where sodium-native loads (about a third of
// WebAssembly's cost); WebAssembly otherwise, with the same results.
useNativeCrypto();

export * from './index.js';
export { readDeviceKey, readPinnedAuthority } from './keystore/keyfile.js';
export type { PassphraseSource } from './keystore/passphrase.js';
