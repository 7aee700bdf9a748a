import { describe, expect, it } from 'vitest';
import { backend } from '../../src/crypto/current.js';

// Catching up on thousands of envelopes is crypto-bound: the Node SDK must not stay on WebAssembly.
describe('the Node entry of the SDK', () => {
  it('runs on native libsodium once imported (this file starts on WebAssembly, as the browser does)', async () => {
    expect(backend().name).toBe('libsodium-wrappers');
    await import('../../src/node.js');
    expect(backend().name).toBe('sodium-native');
  });
});
