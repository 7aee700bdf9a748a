import type { CryptoBackend } from './backend.js';
import { wasmBackend } from './wasm-backend.js';

// One backend per process, like libsodium itself: WebAssembly until a server installs the native
// one at start (useNativeCrypto). The browser never changes it.
let current: CryptoBackend = wasmBackend;

/** The backend in use; call it per operation (it may be switched at start). */
export const backend = (): CryptoBackend => current;

/** What a process runs on, and why not native when it is not. */
export interface BackendChoice {
  readonly name: CryptoBackend['name'];
  readonly reason?: string;
}

/** Installs `next` for every later operation of this process. */
export function useBackend(next: CryptoBackend): BackendChoice {
  current = next;
  return { name: next.name };
}
