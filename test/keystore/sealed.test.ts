import { closeSync, openSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sodium from 'sodium-native';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDeviceKeys } from '../../src/crypto/keys.js';
import { toBase64Url } from '../../src/crypto/sodium.js';
import { isLiaisonError } from '../../src/errors.js';
import {
  newSeed,
  readAuthorityKey,
  readDeviceKey,
  writeAuthorityKey,
  writeDeviceKey,
} from '../../src/keystore/keyfile.js';

const PASSPHRASE = 'Kordai night shift 2026';
const SEAL = { passphrase: { value: PASSPHRASE }, level: 'interactive' } as const;

const vector = JSON.parse(
  await readFile(
    join(import.meta.dirname, '..', '..', 'protocol', 'vectors', 'key-file.json'),
    'utf8',
  ),
);

/** `u32be(len) || bytes` per item: PROTOCOL.md §4, written out again from the text. */
const lengthPrefixed = (...items: Buffer[]) =>
  Buffer.concat(
    items.flatMap((item) => {
      const length = Buffer.alloc(4);
      length.writeUInt32BE(item.length);
      return [length, item];
    }),
  );
const u64 = (n: number) => {
  const out = Buffer.alloc(8);
  out.writeBigUInt64BE(BigInt(n));
  return out;
};

const refusedWith = async (promise: Promise<unknown>, code: string) => {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isLiaisonError(error) ? error.code : String(error)).toBe(code);
};

describe('sealed key files (PROTOCOL.md §5.4)', () => {
  let dir: string;
  let seeds: { signing: Uint8Array; encryption: Uint8Array };
  let keyFile: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'liaison-sealed-'));
    seeds = { signing: await newSeed(), encryption: await newSeed() };
    const keys = await generateDeviceKeys('KZ-KORDAI/desk-1', seeds);
    keyFile = join(dir, 'desk-1.key');
    // writeDeviceKey wipes the seeds it is given: hand it copies, keep ours to look for.
    await writeDeviceKey(
      keyFile,
      keys,
      { signing: Uint8Array.from(seeds.signing), encryption: Uint8Array.from(seeds.encryption) },
      undefined,
      SEAL,
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('the vector opens from the text alone: Argon2id key, associated data, XChaCha20-Poly1305', () => {
    const { file } = vector;
    const b64 = (s: string) => Buffer.from(s, 'base64url');
    const ad = lengthPrefixed(
      Buffer.from('liaison/v1/sealed-key'),
      Buffer.from(file.type),
      Buffer.from(file.holds),
      Buffer.from(file.id),
      Buffer.from(file.keyId),
      Buffer.from(file.kdf.name),
      u64(file.kdf.opslimit),
      u64(file.kdf.memlimit),
      b64(file.kdf.salt),
      Buffer.from(file.aead.name),
      b64(file.aead.nonce),
    );
    expect(ad.toString('hex')).toBe(vector.associatedDataHex);
    const key = Buffer.alloc(32);
    sodium.crypto_pwhash(
      key,
      Buffer.from(vector.passphrase, 'utf8'),
      b64(file.kdf.salt),
      file.kdf.opslimit,
      file.kdf.memlimit,
      sodium.crypto_pwhash_ALG_ARGON2ID13,
    );
    expect(key.toString('hex')).toBe(vector.fileKeyHex);
    const ciphertext = b64(file.ciphertext);
    const plain = Buffer.alloc(ciphertext.length - 16);
    sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
      plain,
      null,
      ciphertext,
      ad,
      b64(file.aead.nonce),
      key,
    );
    expect(plain.toString('hex')).toBe(vector.plaintextHex);
  });

  it('the vector file opens with its passphrase into the vector keys', async () => {
    const path = join(dir, 'vector.key');
    await writeFile(path, JSON.stringify(vector.file));
    const { keys } = await readDeviceKey(path, { value: vector.passphrase });
    expect(keys.keyId).toBe(vector.file.keyId);
    expect(Buffer.from(keys.signingSecretKey.subarray(0, 32)).toString('hex')).toBe(
      vector.plaintextHex.slice(0, 64),
    );
  });

  it('opens with the right passphrase into the same keys', async () => {
    const { keys } = await readDeviceKey(keyFile, { value: PASSPHRASE });
    const expected = await generateDeviceKeys('KZ-KORDAI/desk-1', seeds);
    expect(keys.keyId).toBe(expected.keyId);
    expect(keys.encryptionSecretKey).toEqual(expected.encryptionSecretKey);
  });

  it('a stolen file holds no seed in any encoding', async () => {
    const text = await readFile(keyFile, 'utf8');
    for (const seed of [seeds.signing, seeds.encryption]) {
      for (const encoded of [
        toBase64Url(seed),
        Buffer.from(seed).toString('base64'),
        Buffer.from(seed).toString('hex'),
      ]) {
        expect(text).not.toContain(encoded);
      }
    }
  });

  it('a wrong passphrase is refused with KEY_FILE_PASSPHRASE_WRONG', async () => {
    await refusedWith(
      readDeviceKey(keyFile, { value: 'Kordai night shift 2025' }),
      'KEY_FILE_PASSPHRASE_WRONG',
    );
  });

  it('no passphrase at all is KEY_FILE_PASSPHRASE_MISSING, and says how to give one', async () => {
    const error = await readDeviceKey(keyFile).catch((e: unknown) => e);
    expect(isLiaisonError(error, 'KEY_FILE_PASSPHRASE_MISSING')).toBe(true);
    expect((error as Error).message).toContain('--passphrase-env');
  });

  // An attacker with the file but not the passphrase edits what is in clear: each edit is refused.
  // biome-ignore lint/suspicious/noExplicitAny: the file is edited as plain JSON, as an attacker would
  const tamperings: [string, (file: Record<string, any>) => void][] = [
    [
      'the device id',
      (f) => {
        f.id = 'KG-AKZHOL/desk-1';
      },
    ],
    [
      'the key id',
      (f) => {
        f.keyId = 'AAAAAAAAAAAAAAAAAAAAAA';
      },
    ],
    [
      'the Argon2id passes',
      (f) => {
        f.kdf.opslimit = 3;
      },
    ],
    [
      'the Argon2id memory',
      (f) => {
        f.kdf.memlimit = 2 * 67_108_864;
      },
    ],
    [
      'the salt',
      (f) => {
        f.kdf.salt = 'AAAAAAAAAAAAAAAAAAAAAA';
      },
    ],
    [
      'the nonce',
      (f) => {
        f.aead.nonce = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
      },
    ],
    [
      'one byte of the ciphertext',
      (f) => {
        const bytes = Buffer.from(f.ciphertext, 'base64url');
        bytes[5] = (bytes[5] as number) ^ 1;
        f.ciphertext = bytes.toString('base64url');
      },
    ],
    [
      'the tag (cut short)',
      (f) => {
        f.ciphertext = toBase64Url(Buffer.from(f.ciphertext, 'base64url').subarray(0, 70));
      },
    ],
  ];
  for (const [what, tamper] of tamperings) {
    it(`a file with ${what} changed is refused, even with the right passphrase`, async () => {
      const file = JSON.parse(await readFile(keyFile, 'utf8'));
      tamper(file);
      const path = join(dir, `tampered-${what.replace(/\W+/g, '-')}.key`);
      await writeFile(path, JSON.stringify(file));
      await refusedWith(readDeviceKey(path, { value: PASSPHRASE }), 'KEY_FILE_PASSPHRASE_WRONG');
    });
  }

  it('a file asking Argon2id for more memory than SENSITIVE is refused before hashing', async () => {
    const file = JSON.parse(await readFile(keyFile, 'utf8'));
    file.kdf.memlimit = 4 * 1024 ** 4;
    const path = join(dir, 'greedy.key');
    await writeFile(path, JSON.stringify(file));
    await refusedWith(readDeviceKey(path, { value: PASSPHRASE }), 'VALIDATION_FAILED');
  });

  it("another device's certificate slipped into the file is refused", async () => {
    const other = JSON.parse(
      await readFile(
        join(import.meta.dirname, '..', '..', 'protocol', 'vectors', 'certificates.json'),
        'utf8',
      ),
    );
    const file = JSON.parse(await readFile(keyFile, 'utf8'));
    file.certificate = other.certificates[1].certificate;
    const path = join(dir, 'swapped-cert.key');
    await writeFile(path, JSON.stringify(file));
    await expect(readDeviceKey(path, { value: PASSPHRASE })).rejects.toThrow(/certificate/);
  });

  it('a passphrase from a file descriptor opens it (one trailing newline dropped)', async () => {
    const secretFile = join(dir, 'passphrase');
    writeFileSync(secretFile, `${PASSPHRASE}\n`, { mode: 0o600 });
    const fd = openSync(secretFile, 'r');
    try {
      const { keys } = await readDeviceKey(keyFile, { fd });
      expect(keys.deviceId).toBe('KZ-KORDAI/desk-1');
    } finally {
      closeSync(fd);
    }
  });

  it('a passphrase from a named environment variable opens it', async () => {
    process.env.LIAISON_TEST_PASSPHRASE = PASSPHRASE;
    try {
      const { keys } = await readDeviceKey(keyFile, { env: 'LIAISON_TEST_PASSPHRASE' });
      expect(keys.deviceId).toBe('KZ-KORDAI/desk-1');
    } finally {
      delete process.env.LIAISON_TEST_PASSPHRASE;
    }
  });

  it('the authority key is sealed the same way, and refuses a wrong passphrase', async () => {
    const path = join(dir, 'authority.key');
    const seed = await newSeed();
    const copy = Uint8Array.from(seed);
    const written = await writeAuthorityKey(path, 'CARICC authority', seed, SEAL);
    expect(seed.every((b) => b === 0)).toBe(true);
    expect(await readFile(path, 'utf8')).not.toContain(toBase64Url(copy));
    const read = await readAuthorityKey(path, { value: PASSPHRASE });
    expect(read.keyId).toBe(written.keyId);
    await refusedWith(readAuthorityKey(path, { value: 'guess' }), 'KEY_FILE_PASSPHRASE_WRONG');
    // A device loader does not take the authority's file for a device's.
    await expect(readDeviceKey(path, { value: PASSPHRASE })).rejects.toThrow(/authority/);
  });

  it('a new key file refuses a short passphrase', async () => {
    const keys = await generateDeviceKeys('KZ-KORDAI/desk-2');
    const write = writeDeviceKey(
      join(dir, 'short.key'),
      keys,
      { signing: await newSeed(), encryption: await newSeed() },
      undefined,
      { passphrase: { value: 'short' }, level: 'interactive' },
    );
    await refusedWith(write, 'KEY_FILE_PASSPHRASE_MISSING');
  });
});
