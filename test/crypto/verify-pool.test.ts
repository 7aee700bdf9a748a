// Signatures of a large batch (a directory file's) are checked on worker threads; what they
// found answers only for the very same key, signature and message, and a bad one stays bad.
import { describe, expect, it } from 'vitest';
import { backend, useBackend } from '../../src/crypto/current.js';
import { loadNativeBackend } from '../../src/crypto/native-backend.js';
import { ready, sodium } from '../../src/crypto/sodium.js';
import {
  PARALLEL_FROM,
  type SignatureCheck,
  VerifyPool,
  verifiedOnThreads,
  withVerified,
} from '../../src/crypto/verify-pool.js';

async function batch(n: number): Promise<SignatureCheck[]> {
  await ready;
  const keys = sodium.crypto_sign_keypair();
  const checks: SignatureCheck[] = [];
  for (let i = 0; i < n; i++) {
    const message = sodium.randombytes_buf(64 + (i % 200));
    const signature = sodium.crypto_sign_detached(message, keys.privateKey);
    // Every seventh is broken: one flipped bit of the signature or of the message.
    if (i % 7 === 3) signature[5] = (signature[5] as number) ^ 1;
    if (i % 7 === 5) message[0] = (message[0] as number) ^ 1;
    checks.push({ message, signature, publicKey: keys.publicKey });
  }
  return checks;
}

describe('verifying a large batch on worker threads', () => {
  it('finds exactly what verifying one by one finds, on threads', async () => {
    const native = loadNativeBackend().backend;
    if (native) useBackend(native);
    const checks = await batch(PARALLEL_FROM + 300);
    const one = checks.map((c) => backend().verify(c.signature, c.message, c.publicKey));
    const pool = new VerifyPool(backend(), 2);
    const before = verifiedOnThreads();
    try {
      expect(await pool.verify(checks)).toEqual(one);
    } finally {
      await pool.close();
    }
    if (native) expect(verifiedOnThreads() - before).toBe(checks.length);
    expect(one.filter((ok) => !ok).length).toBeGreaterThan(600);
  });

  it('checks a long batch given in windows on threads too, each window right', async () => {
    const native = loadNativeBackend().backend;
    if (native) useBackend(native);
    const checks = await batch(PARALLEL_FROM + 700);
    const one = checks.map((c) => backend().verify(c.signature, c.message, c.publicKey));
    const pool = new VerifyPool(backend(), 2);
    const before = verifiedOnThreads();
    const found: boolean[] = [];
    try {
      // Windows of different sizes, so a worker's buffer is reused for larger and smaller ones.
      for (
        let at = 0, size = 300;
        at < checks.length;
        at += size, size = size === 300 ? 700 : 300
      ) {
        found.push(...(await pool.verify(checks.slice(at, at + size))));
      }
    } finally {
      await pool.close();
    }
    expect(found).toEqual(one);
    // The windows before PARALLEL_FROM checks are checked here; the rest on threads.
    if (native) expect(verifiedOnThreads() - before).toBeGreaterThanOrEqual(700);
  });

  it('answers from what was found only for the same signature, key and message', async () => {
    const checks = await batch(20);
    const results = checks.map(() => true); // claimed, even for the broken ones
    const real = backend();
    let asked = 0;
    const counting = {
      ...real,
      verify: (s: Uint8Array, m: Uint8Array, k: Uint8Array) => {
        asked++;
        return real.verify(s, m, k);
      },
    };
    const memo = withVerified(counting, checks, results);
    const [first] = checks as [SignatureCheck];
    expect(memo.verify(first.signature, first.message.slice(), first.publicKey)).toBe(true);
    expect(asked).toBe(0);
    // Another message under the same signature is not what was checked: verified for real.
    const other = first.message.slice();
    other[1] = (other[1] as number) ^ 1;
    expect(memo.verify(first.signature, other, first.publicKey)).toBe(false);
    const otherKey = sodium.crypto_sign_keypair().publicKey;
    expect(memo.verify(first.signature, first.message, otherKey)).toBe(false);
    expect(asked).toBe(2);
  });
});
