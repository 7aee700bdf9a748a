import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnrolmentRequest } from '../../protocol/v1/enrolment.js';
import { adminCommand } from '../../src/cli/admin.js';
import { publishAuthority } from '../../src/crypto/certificate.js';
import { generateDeviceKeys } from '../../src/crypto/keys.js';
import { signObject } from '../../src/crypto/signed.js';
import { toBase64Url } from '../../src/crypto/sodium.js';
import { isLiaisonError } from '../../src/errors.js';
import { loadDirectory, writeDirectoryFile } from '../../src/keystore/directory-file.js';
import {
  makeEnrolmentRequest,
  verifyEnrolmentRequest,
} from '../../src/keystore/enrolment-request.js';
import { writePublicFile } from '../../src/keystore/files.js';
import { newSeed, writeAuthorityKey } from '../../src/keystore/keyfile.js';

const payloadOf = (request: EnrolmentRequest) =>
  JSON.parse(Buffer.from(request.request.payload, 'base64url').toString('utf8'));

/** The same signature over a payload someone edited afterwards. */
const edited = (request: EnrolmentRequest, edit: (payload: Record<string, unknown>) => void) => {
  const payload = payloadOf(request);
  edit(payload);
  return {
    ...request,
    request: { ...request.request, payload: toBase64Url(Buffer.from(JSON.stringify(payload))) },
  };
};

const refused = (file: unknown) => {
  try {
    verifyEnrolmentRequest(file);
  } catch (error) {
    return isLiaisonError(error, 'ENROLMENT_REQUEST_INVALID');
  }
  return false;
};

describe('enrolment requests: proof of possession (PROTOCOL.md §5.5)', () => {
  let genuine: Awaited<ReturnType<typeof makeEnrolmentRequest>>;

  beforeAll(async () => {
    genuine = await makeEnrolmentRequest('TJ-PANJ/desk-1', 'device', 365);
  });

  it('a request signed by the key it enrols verifies, with both keys bound', () => {
    const verified = verifyEnrolmentRequest(genuine.request);
    expect(verified.deviceId).toBe('TJ-PANJ/desk-1');
    expect(verified.keyId).toBe(genuine.keys.keyId);
    expect(verified.encryptionPublicKey).toEqual(genuine.keys.encryptionPublicKey);
  });

  it('the request holds no private key', () => {
    const text = JSON.stringify(genuine.request);
    for (const secret of [
      genuine.keys.signingSecretKey.subarray(0, 32),
      genuine.keys.encryptionSecretKey,
    ]) {
      expect(text).not.toContain(toBase64Url(secret));
      expect(text).not.toContain(Buffer.from(secret).toString('hex'));
    }
  });

  it("a request for someone else's keys, signed by the attacker's key, is refused", async () => {
    const attacker = await generateDeviceKeys('TJ-PANJ/desk-1');
    const forged = {
      ...genuine.request,
      request: signObject(
        'liaison/v1/enrolment-request',
        payloadOf(genuine.request),
        attacker.signingSecretKey,
      ),
    };
    expect(refused(forged)).toBe(true);
  });

  it("swapping in the attacker's encryption key after signing is refused", async () => {
    const attacker = await generateDeviceKeys('TJ-PANJ/desk-1');
    const swapped = edited(genuine.request, (p) => {
      p.encryptionKey = toBase64Url(attacker.encryptionPublicKey);
    });
    expect(refused(swapped)).toBe(true);
  });

  it('a longer validity, another device id or another role written in after signing is refused', () => {
    expect(
      refused(
        edited(genuine.request, (p) => {
          p.validityDays = 3650;
        }),
      ),
    ).toBe(true);
    expect(
      refused(
        edited(genuine.request, (p) => {
          p.deviceId = 'TJ-PANJ/desk-9';
        }),
      ),
    ).toBe(true);
    expect(
      refused(
        edited(genuine.request, (p) => {
          p.role = 'hub';
        }),
      ),
    ).toBe(true);
  });

  it('a key id that does not name the two keys is refused, even when signed', async () => {
    const keys = await generateDeviceKeys('TJ-PANJ/desk-1');
    const payload = {
      ...payloadOf(genuine.request),
      signingKey: toBase64Url(keys.signingPublicKey),
    };
    const signed = signObject('liaison/v1/enrolment-request', payload, keys.signingSecretKey);
    expect(refused({ ...genuine.request, request: signed })).toBe(true);
  });

  it('a device of one office asking in the name of another is refused, even when signed', () => {
    const payload = { ...payloadOf(genuine.request), officeId: 'AF-SHERKHAN' };
    const signed = signObject(
      'liaison/v1/enrolment-request',
      payload,
      genuine.keys.signingSecretKey,
    );
    expect(refused({ ...genuine.request, request: signed })).toBe(true);
  });

  it('the same key signing the payload for another purpose (domain) does not pass', () => {
    const signed = signObject(
      'liaison/v1/certificate',
      payloadOf(genuine.request),
      genuine.keys.signingSecretKey,
    );
    expect(refused({ ...genuine.request, request: signed })).toBe(true);
  });

  it('garbage is refused with the same code, not a crash', () => {
    expect(refused(null)).toBe(true);
    expect(
      refused({
        v: 1,
        type: 'liaison.enrolment-request',
        request: { payload: '!!', signature: 'x' },
      }),
    ).toBe(true);
  });
});

describe('liaison admin approve', () => {
  let dir: string;
  const lines: string[] = [];
  const print = (line: string) => lines.push(line);
  let auth: string[];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'liaison-approve-'));
    const authority = await writeAuthorityKey(
      join(dir, 'authority.key'),
      'CARICC test',
      await newSeed(),
      'insecure-plaintext',
    );
    await writeDirectoryFile(join(dir, 'directory.json'), {
      v: 1,
      authority: publishAuthority(authority, authority.name),
      statements: [],
    });
    auth = ['--authority', join(dir, 'authority.key'), '--directory', join(dir, 'directory.json')];
    await adminCommand(
      [
        'office',
        ...auth,
        '--office',
        'TJ-PANJ',
        '--name',
        'BLO Panji Poyon',
        '--bcp',
        'Panji Poyon',
      ],
      print,
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('certifies the keys in the request, caps the validity, and writes no private key', async () => {
    const { keys, request } = await makeEnrolmentRequest('TJ-PANJ/desk-1', 'device', 3000);
    const file = join(dir, 'desk-1.request.json');
    await writePublicFile(file, JSON.stringify(request));
    const out = join(dir, 'desk-1.approval.json');
    await adminCommand(
      ['approve', ...auth, '--request', file, '--out', out, '--days', '30'],
      print,
    );
    const directory = await loadDirectory(join(dir, 'directory.json'));
    const cert = directory.certificateOf('TJ-PANJ/desk-1', keys.keyId);
    expect(cert?.encryptionPublicKey).toEqual(keys.encryptionPublicKey);
    expect((cert?.notAfter ?? 0) - (cert?.notBefore ?? 0)).toBeLessThanOrEqual(31 * 86_400_000);
    const approval = await readFile(out, 'utf8');
    for (const secret of [
      keys.signingSecretKey,
      keys.signingSecretKey.subarray(0, 32),
      keys.encryptionSecretKey,
    ]) {
      expect(approval).not.toContain(toBase64Url(secret));
      expect(approval).not.toContain(Buffer.from(secret).toString('hex'));
      expect(approval).not.toContain(Buffer.from(secret).toString('base64'));
    }
    expect(lines.join('\n')).toMatch(/approved TJ-PANJ\/desk-1 \(device\).*30 days/);
  });

  it('a forged request is refused and the directory is left as it was', async () => {
    const { request } = await makeEnrolmentRequest('TJ-PANJ/duty-1', 'device', 365);
    const attacker = await generateDeviceKeys('TJ-PANJ/duty-1');
    const forged = edited(request, (p) => {
      p.encryptionKey = toBase64Url(attacker.encryptionPublicKey);
    });
    const file = join(dir, 'forged.request.json');
    await writePublicFile(file, JSON.stringify(forged));
    const before = await readFile(join(dir, 'directory.json'), 'utf8');
    const error = await adminCommand(
      ['approve', ...auth, '--request', file, '--out', join(dir, 'forged.approval.json')],
      print,
    ).catch((e: unknown) => e);
    expect(isLiaisonError(error, 'ENROLMENT_REQUEST_INVALID')).toBe(true);
    expect(await readFile(join(dir, 'directory.json'), 'utf8')).toBe(before);
  });

  it('a second request for an enrolled device needs --rotate, and then names the old key', async () => {
    const first = (await loadDirectory(join(dir, 'directory.json'))).currentKeyIdOf(
      'TJ-PANJ/desk-1',
    );
    const { keys, request } = await makeEnrolmentRequest('TJ-PANJ/desk-1', 'device', 365);
    const file = join(dir, 'desk-1.v2.request.json');
    await writePublicFile(file, JSON.stringify(request));
    const out = join(dir, 'desk-1.v2.approval.json');
    await expect(
      adminCommand(['approve', ...auth, '--request', file, '--out', out], print),
    ).rejects.toThrow(/--rotate/);
    await adminCommand(['approve', ...auth, '--request', file, '--out', out, '--rotate'], print);
    const directory = await loadDirectory(join(dir, 'directory.json'));
    expect(directory.currentKeyIdOf('TJ-PANJ/desk-1')).toBe(keys.keyId);
    expect(first).not.toBe(keys.keyId);
  });
});
