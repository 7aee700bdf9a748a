import { createRequire } from 'node:module';
import type SodiumNative from 'sodium-native';
import { type CryptoBackend, SIGNATURE_BYTES, SIGNING_KEY_BYTES } from './backend.js';
import { type BackendChoice, useBackend } from './current.js';

// Node only: the browser bundle never imports this file (the Console builds from src/index.ts).

/** sodium-native takes any typed array at run time; its types ask for Buffer. No copy is made. */
const b = (bytes: Uint8Array) => bytes as Buffer;

/** libsodium as native code, through sodium-native (its binaries ship inside the npm package). */
export function nativeBackend(native: typeof SodiumNative): CryptoBackend {
  const SEAL_BYTES = native.crypto_box_SEALBYTES;
  const TAG_BYTES = native.crypto_aead_xchacha20poly1305_ietf_ABYTES;
  return {
    name: 'sodium-native',
    sign(message, secretKey) {
      const signature = new Uint8Array(SIGNATURE_BYTES);
      native.crypto_sign_detached(b(signature), b(message), b(secretKey));
      return signature;
    },
    verify: (signature, message, publicKey) =>
      signature.length === SIGNATURE_BYTES &&
      publicKey.length === SIGNING_KEY_BYTES &&
      native.crypto_sign_verify_detached(b(signature), b(message), b(publicKey)),
    hash(length, message, key) {
      const out = new Uint8Array(length);
      if (key) native.crypto_generichash(b(out), b(message), b(key));
      else native.crypto_generichash(b(out), b(message));
      return out;
    },
    boxSeedKeypair(seed) {
      const publicKey = new Uint8Array(native.crypto_box_PUBLICKEYBYTES);
      const privateKey = new Uint8Array(native.crypto_box_SECRETKEYBYTES);
      native.crypto_box_seed_keypair(b(publicKey), b(privateKey), b(seed));
      return { publicKey, privateKey };
    },
    box(message, nonce, publicKey, secretKey) {
      const out = new Uint8Array(message.length + native.crypto_box_MACBYTES);
      native.crypto_box_easy(b(out), b(message), b(nonce), b(publicKey), b(secretKey));
      return out;
    },
    sealOpen(sealed, publicKey, secretKey) {
      if (sealed.length < SEAL_BYTES) throw new Error('sealed box too short');
      const out = new Uint8Array(sealed.length - SEAL_BYTES);
      if (!native.crypto_box_seal_open(b(out), b(sealed), b(publicKey), b(secretKey))) {
        throw new Error('sealed box does not open');
      }
      return out;
    },
    decrypt(ciphertext, ad, nonce, key) {
      if (ciphertext.length < TAG_BYTES) throw new Error('ciphertext too short');
      const out = new Uint8Array(ciphertext.length - TAG_BYTES);
      native.crypto_aead_xchacha20poly1305_ietf_decrypt(
        b(out),
        null,
        b(ciphertext),
        b(ad),
        b(nonce),
        b(key),
      );
      return out;
    },
    equal: (a, other) => a.length === other.length && native.sodium_memcmp(b(a), b(other)),
    wipe: (bytes) => native.sodium_memzero(b(bytes)),
  };
}

/**
 * The native backend, or undefined with the reason when sodium-native cannot load here (no
 * prebuilt binary for this platform, a stripped install): the caller falls back to WebAssembly.
 */
export function loadNativeBackend(): { backend?: CryptoBackend; reason?: string } {
  try {
    const native = createRequire(import.meta.url)('sodium-native') as typeof SodiumNative;
    return { backend: nativeBackend(native) };
  } catch (error) {
    return { reason: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Makes this process's servers use native libsodium, or keeps WebAssembly (and says why) when the
 * native module cannot load. Servers call it at start; calling it again changes nothing.
 */
export function useNativeCrypto(): BackendChoice {
  const { backend, reason } = loadNativeBackend();
  return backend
    ? useBackend(backend)
    : { name: 'libsodium-wrappers', ...(reason ? { reason } : {}) };
}
