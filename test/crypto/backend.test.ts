import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CryptoBackend } from '../../src/crypto/backend.js';
import { pinAuthority, verifyCertificate } from '../../src/crypto/certificate.js';
import { backend, useBackend } from '../../src/crypto/current.js';
import { encode } from '../../src/crypto/encoding.js';
import { generateDeviceKeys } from '../../src/crypto/keys.js';
import { loadNativeBackend, useNativeCrypto } from '../../src/crypto/native-backend.js';
import { fromBase64Url, ready, sodium, toBase64Url } from '../../src/crypto/sodium.js';
import { statementHash } from '../../src/crypto/statement.js';
import { wasmBackend } from '../../src/crypto/wasm-backend.js';
import { Directory } from '../../src/directory/directory.js';
import { openEnvelope } from '../../src/envelope/open.js';
import { entryHash, GENESIS } from '../../src/hub/record.js';
import { vectorPrekeys } from '../fixtures/vector-prekeys.js';

const dir = join(import.meta.dirname, '..', '..', 'protocol', 'vectors');
// biome-ignore lint/suspicious/noExplicitAny: vectors are read as plain JSON, as an integrator would
const load = async (name: string): Promise<any> =>
  JSON.parse(await readFile(join(dir, `${name}.json`), 'utf8'));

const loaded = loadNativeBackend();
if (!loaded.backend)
  throw new Error(`sodium-native must load in the test environment: ${loaded.reason}`);
const native = loaded.backend;
const backends: readonly CryptoBackend[] = [native, wasmBackend];

beforeAll(async () => {
  await ready;
});
afterAll(() => {
  useBackend(wasmBackend);
});

describe.each(backends)('the protocol vectors hold on $name', (candidate) => {
  beforeAll(() => {
    useBackend(candidate);
  });

  it('runs on the backend under test', () => {
    expect(backend().name).toBe(candidate.name);
  });

  it('verifies every certificate and rebuilds the directory log, hashes and head', async () => {
    const statements = await load('statements');
    const certificates = await load('certificates');
    const authority = await pinAuthority(statements.authority);
    for (const entry of certificates.certificates) {
      expect(verifyCertificate(entry.certificate, authority).deviceId).toBe(entry.deviceId);
    }
    const directory = new Directory(authority);
    directory.applyAll(statements.statements);
    expect(statements.statements.map(statementHash)).toEqual(statements.hashes);
    expect(directory.matchHead(statements.head).version).toBe(statements.statements.length);
  });

  it('opens both envelope vectors for every recipient, the hub included', async () => {
    const statements = await load('statements');
    const keys = await load('keys');
    const directory = new Directory(await pinAuthority(statements.authority));
    directory.applyAll(statements.statements);
    for (const name of ['envelope-chat', 'envelope-alert']) {
      const vector = await load(name);
      for (const deviceId of ['KG-AKZHOL/desk-1', 'KG-AKZHOL/duty-1', 'CARICC/hub']) {
        const d = keys.devices.find((x: { deviceId: string }) => x.deviceId === deviceId);
        const identity = await generateDeviceKeys(deviceId, {
          signing: fromBase64Url(d.signingSeed),
          encryption: fromBase64Url(d.encryptionSeed),
        });
        const opened = await openEnvelope(
          vector.envelope,
          identity,
          directory,
          vector.openAt,
          {},
          vectorPrekeys(vector.prekeys, deviceId, directory),
        );
        expect(opened.body).toEqual(vector.body);
      }
    }
  });

  it('checks the checkpoint vector signature and refuses it with one bit flipped', async () => {
    const vector = await load('checkpoint');
    const keys = await load('keys');
    const hub = keys.devices.find((d: { deviceId: string }) => d.deviceId === 'CARICC/hub');
    const input = encode([
      'liaison/v1/record-checkpoint',
      fromBase64Url(vector.checkpoint.payload),
    ]);
    const signature = fromBase64Url(vector.checkpoint.signature);
    const key = fromBase64Url(hub.signingPublicKey);
    expect(candidate.verify(signature, input, key)).toBe(true);
    const flipped = Uint8Array.from(signature);
    flipped[5] = (flipped[5] as number) ^ 1;
    expect(candidate.verify(flipped, input, key)).toBe(false);
    expect(candidate.verify(signature.subarray(0, 63), input, key)).toBe(false);
    expect(candidate.verify(signature, input, key.subarray(0, 31))).toBe(false);
  });
});

describe('the two backends agree', () => {
  const seed = new Uint8Array(32).fill(7);
  let pair: { publicKey: Uint8Array; privateKey: Uint8Array };
  let box: { publicKey: Uint8Array; privateKey: Uint8Array };
  beforeAll(async () => {
    await ready;
    pair = sodium.crypto_sign_seed_keypair(seed);
    box = sodium.crypto_box_seed_keypair(seed);
  });
  const bytes = (max: number) => fc.uint8Array({ maxLength: max });

  it('sign, verify and BLAKE2b (plain and keyed) give the same bytes', () => {
    fc.assert(
      fc.property(
        bytes(300),
        fc.integer({ min: 16, max: 64 }),
        bytes(64),
        (message, length, key) => {
          const signature = native.sign(message, pair.privateKey);
          expect(signature).toEqual(wasmBackend.sign(message, pair.privateKey));
          expect(native.verify(signature, message, pair.publicKey)).toBe(true);
          expect(wasmBackend.verify(signature, message, pair.publicKey)).toBe(true);
          expect(native.hash(length, message)).toEqual(wasmBackend.hash(length, message));
          if (key.length >= 16) {
            expect(native.hash(length, message, key)).toEqual(
              wasmBackend.hash(length, message, key),
            );
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('open what the other sealed, and both refuse the same tampered or short boxes', () => {
    fc.assert(
      fc.property(bytes(100), fc.nat(), (message, bit) => {
        const sealed = sodium.crypto_box_seal(message, box.publicKey);
        for (const b of backends)
          expect(b.sealOpen(sealed, box.publicKey, box.privateKey)).toEqual(message);
        const tampered = Uint8Array.from(sealed);
        const at = bit % (tampered.length * 8);
        tampered[at >> 3] = (tampered[at >> 3] as number) ^ (1 << (at & 7));
        for (const b of backends) {
          expect(() => b.sealOpen(tampered, box.publicKey, box.privateKey)).toThrow();
          expect(() => b.sealOpen(sealed.subarray(0, 47), box.publicKey, box.privateKey)).toThrow();
        }

        const key = seed;
        const nonce = new Uint8Array(24).fill(bit & 0xff);
        const ad = encode(['ad', bit]);
        const ciphertext = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
          message,
          ad,
          null,
          nonce,
          key,
        );
        for (const b of backends) {
          expect(b.decrypt(ciphertext, ad, nonce, key)).toEqual(message);
          expect(() => b.decrypt(ciphertext, encode(['other', bit]), nonce, key)).toThrow();
          expect(() => b.decrypt(ciphertext.subarray(0, 15), ad, nonce, key)).toThrow();
        }
      }),
      { numRuns: 100 },
    );
  });

  it('compare in constant time the same way, and wipe', () => {
    for (const b of backends) {
      expect(b.equal(Uint8Array.of(1, 2), Uint8Array.of(1, 2))).toBe(true);
      expect(b.equal(Uint8Array.of(1, 2), Uint8Array.of(1, 3))).toBe(false);
      expect(b.equal(Uint8Array.of(1, 2), Uint8Array.of(1, 2, 3))).toBe(false);
      const secret = Uint8Array.of(9, 9, 9);
      b.wipe(secret);
      expect([...secret]).toEqual([0, 0, 0]);
    }
  });

  it('record entries hash the same on both (the hub may switch between them)', () => {
    useBackend(native);
    const onNative = entryHash(GENESIS, '{"seq":1}');
    useBackend(wasmBackend);
    expect(entryHash(GENESIS, '{"seq":1}')).toBe(onNative);
  });
});

describe('base64url without WebAssembly', () => {
  const lib = (text: string) => {
    try {
      return toBase64Url(sodium.from_base64(text, sodium.base64_variants.URLSAFE_NO_PADDING));
    } catch {
      return 'refused';
    }
  };
  const ours = (text: string) => {
    try {
      return toBase64Url(fromBase64Url(text));
    } catch {
      return 'refused';
    }
  };

  it('accepts and refuses exactly the texts libsodium accepts and refuses', () => {
    const unit = fc.constantFrom(...'AQgw-_Zz09+/=. \n\u00e9'.split(''));
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 12 }), (text) => {
        expect(ours(text)).toBe(lib(text));
      }),
      { numRuns: 5000 },
    );
    for (const text of ['A', 'AB', 'AAB', 'AA==', 'AA=', 'A-_', 'AR'])
      expect(ours(text)).toBe(lib(text));
  });

  it('encodes every byte string as libsodium does', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 70 }), (bytes) => {
        expect(toBase64Url(bytes)).toBe(
          sodium.to_base64(bytes, sodium.base64_variants.URLSAFE_NO_PADDING),
        );
      }),
    );
  });
});

describe('choosing the backend', () => {
  it('a server start installs sodium-native where it loads', () => {
    expect(useNativeCrypto()).toEqual({ name: 'sodium-native' });
    expect(backend().name).toBe('sodium-native');
    useBackend(wasmBackend);
  });
});
