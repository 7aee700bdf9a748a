import { type ConsoleKeyFile, fromBase64Url, ready, sodium, toBase64Url } from './sdk.js';

/**
 * The browser's local store, IndexedDB: the imported key file (already sealed under the
 * passphrase) and this device's state (history, outbox, inbox position), encrypted with the vault
 * key derived from the same passphrase. Nothing secret goes to localStorage or cookies.
 */
const DB = 'liaison-console';
const STORE = 'vault';

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function run<T>(mode: IDBTransactionMode, act: (store: IDBObjectStore) => IDBRequest<T>) {
  const db = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const request = act(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

export const loadIdentity = () =>
  run<ConsoleKeyFile | undefined>('readonly', (s) => s.get('identity'));

export const saveIdentity = (file: ConsoleKeyFile) =>
  run('readwrite', (s) => s.put(file, 'identity'));

/** Removes the key and the local history from this browser. */
export async function forgetAll(): Promise<void> {
  await run('readwrite', (s) => s.clear());
}

interface Sealed {
  nonce: string;
  ciphertext: string;
}

const context = (deviceId: string) => sodium.from_string(`liaison/console/state/${deviceId}`);

/** Reads the encrypted state; undefined when there is none yet. */
export async function loadState<T>(deviceId: string, key: Uint8Array): Promise<T | undefined> {
  await ready;
  const sealed = await run<Sealed | undefined>('readonly', (s) => s.get(`state:${deviceId}`));
  if (!sealed) return undefined;
  const plain = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
    null,
    fromBase64Url(sealed.ciphertext),
    context(deviceId),
    fromBase64Url(sealed.nonce),
    key,
  );
  return JSON.parse(sodium.to_string(plain)) as T;
}

/** Writes the state encrypted, with a fresh random nonce each time. */
export async function saveState(deviceId: string, key: Uint8Array, state: unknown) {
  await ready;
  const nonce = sodium.randombytes_buf(24);
  const ciphertext = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
    sodium.from_string(JSON.stringify(state)),
    context(deviceId),
    null,
    nonce,
    key,
  );
  const sealed: Sealed = { nonce: toBase64Url(nonce), ciphertext: toBase64Url(ciphertext) };
  await run('readwrite', (s) => s.put(sealed, `state:${deviceId}`));
}
