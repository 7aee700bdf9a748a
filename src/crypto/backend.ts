/**
 * The libsodium operations a server repeats per envelope or per statement, behind one interface
 * with two implementations: sodium-native (native code, Node only; see native-backend.ts) and
 * libsodium-wrappers (WebAssembly; the browser, and the fallback where the native module cannot
 * load). Both are libsodium, so they agree byte for byte; test/crypto/backend.test.ts runs the
 * protocol vectors on each. Everything else (key generation, sealing) stays on libsodium-wrappers:
 * it is not on a server's hot path.
 */
export interface CryptoBackend {
  readonly name: 'sodium-native' | 'libsodium-wrappers';
  /** Ed25519 detached signature of `message`. */
  sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array;
  /** Ed25519: false for a bad signature, and for a signature or key of the wrong length. */
  verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
  /** BLAKE2b with `length` bytes of output, keyed when `key` is given. */
  hash(length: number, message: Uint8Array, key?: Uint8Array): Uint8Array;
  /** crypto_box_seed_keypair: the X25519 key pair made from a 32-byte seed. */
  boxSeedKeypair(seed: Uint8Array): { publicKey: Uint8Array; privateKey: Uint8Array };
  /** crypto_box_easy: MAC || ciphertext of `message` from `secretKey` to `publicKey`. */
  box(
    message: Uint8Array,
    nonce: Uint8Array,
    publicKey: Uint8Array,
    secretKey: Uint8Array,
  ): Uint8Array;
  /** crypto_box_seal_open; throws when the box does not open. */
  sealOpen(sealed: Uint8Array, publicKey: Uint8Array, secretKey: Uint8Array): Uint8Array;
  /** XChaCha20-Poly1305 (IETF) decryption; throws when the tag does not verify. */
  decrypt(ciphertext: Uint8Array, ad: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array;
  /** Constant-time equality; false for different lengths. */
  equal(a: Uint8Array, b: Uint8Array): boolean;
  /** Overwrites secret bytes with zeros. */
  wipe(bytes: Uint8Array): void;
}

export const SIGNATURE_BYTES = 64;
export const SIGNING_KEY_BYTES = 32;
