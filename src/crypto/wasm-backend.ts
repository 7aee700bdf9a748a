import { type CryptoBackend, SIGNATURE_BYTES, SIGNING_KEY_BYTES } from './backend.js';
import { sodium } from './sodium.js';

/** libsodium's WebAssembly build; every call needs `ready` to have resolved. */
export const wasmBackend: CryptoBackend = {
  name: 'libsodium-wrappers',
  sign: (message, secretKey) => sodium.crypto_sign_detached(message, secretKey),
  verify: (signature, message, publicKey) =>
    signature.length === SIGNATURE_BYTES &&
    publicKey.length === SIGNING_KEY_BYTES &&
    sodium.crypto_sign_verify_detached(signature, message, publicKey),
  hash: (length, message, key) => sodium.crypto_generichash(length, message, key ?? null),
  boxSeedKeypair: (seed) => {
    const { publicKey, privateKey } = sodium.crypto_box_seed_keypair(seed);
    return { publicKey, privateKey };
  },
  box: (message, nonce, publicKey, secretKey) =>
    sodium.crypto_box_easy(message, nonce, publicKey, secretKey),
  sealOpen: (sealed, publicKey, secretKey) =>
    sodium.crypto_box_seal_open(sealed, publicKey, secretKey),
  decrypt: (ciphertext, ad, nonce, key) =>
    sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, ciphertext, ad, nonce, key),
  equal: (a, b) => a.length === b.length && sodium.memcmp(a, b),
  wipe: (bytes) => sodium.memzero(bytes),
};
