import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ATTACHMENT_CHUNK_BYTES } from '../../protocol/v1/blob.js';
import { decodeCompactEnvelope, encodeCompactEnvelope } from '../../protocol/v1/compact.js';
import { Envelope } from '../../protocol/v1/envelope.js';
import { vectorFile } from '../../scripts/attachment-vectors.js';
import { buildVectors, renderVectors } from '../../scripts/vectors.js';
import { openAttachment } from '../../src/attachment/open.js';
import { pinAuthority, verifyCertificate } from '../../src/crypto/certificate.js';
import { encode } from '../../src/crypto/encoding.js';
import { generateDeviceKeys } from '../../src/crypto/keys.js';
import { fromBase64Url, fromUtf8, ready, sodium } from '../../src/crypto/sodium.js';
import { verifyClientToken } from '../../src/crypto/token.js';
import { Directory } from '../../src/directory/directory.js';
import { headerBytes } from '../../src/envelope/layout.js';
import { openEnvelope } from '../../src/envelope/open.js';
import { expectGeneratedFiles } from '../fixtures/generated.js';
import { vectorPrekeys } from '../fixtures/vector-prekeys.js';

const dir = join(import.meta.dirname, '..', '..', 'protocol', 'vectors');
// biome-ignore lint/suspicious/noExplicitAny: vectors are read as plain JSON, as an integrator would
const load = async (name: string): Promise<any> =>
  JSON.parse(await readFile(join(dir, `${name}.json`), 'utf8'));

beforeAll(async () => {
  await ready;
});

describe('protocol test vectors', () => {
  it('are reproduced byte for byte from their fixed seeds', async () => {
    const rendered = await renderVectors();
    await expectGeneratedFiles(dir, rendered);
  });

  it('are deterministic across runs', async () => {
    expect(JSON.stringify(await buildVectors())).toBe(JSON.stringify(await buildVectors()));
  });

  it('let an integrator verify certificates and the directory from the files alone', async () => {
    const statements = await load('statements');
    const certificates = await load('certificates');
    const authority = await pinAuthority(statements.authority);
    for (const entry of certificates.certificates) {
      const cert = verifyCertificate(entry.certificate, authority);
      expect(cert.deviceId).toBe(entry.deviceId);
      expect(fromUtf8(fromBase64Url(entry.certificate.payload))).toBe(entry.payloadJson);
      const signed = encode(['liaison/v1/certificate', fromBase64Url(entry.certificate.payload)]);
      expect(sodium.to_hex(signed)).toBe(entry.signatureInputHex);
    }
    const directory = new Directory(authority);
    directory.applyAll(statements.statements);
    expect(directory.isLinked('KZ-KORDAI', 'KG-AKZHOL')).toBe(true);
  });

  it('let an integrator check a record checkpoint with the hub certificate alone', async () => {
    const vector = await load('checkpoint');
    const keys = await load('keys');
    const hub = keys.devices.find((d: { deviceId: string }) => d.deviceId === 'CARICC/hub');
    const payload = fromBase64Url(vector.checkpoint.payload);
    const input = encode(['liaison/v1/record-checkpoint', payload]);
    expect(sodium.to_hex(input)).toBe(vector.signatureInputHex);
    expect(
      sodium.crypto_sign_verify_detached(
        fromBase64Url(vector.checkpoint.signature),
        input,
        fromBase64Url(hub.signingPublicKey),
      ),
    ).toBe(true);
    expect(JSON.parse(fromUtf8(payload))).toMatchObject({
      type: 'liaison.record-checkpoint',
      hub: 'CARICC/hub',
      keyId: hub.keyId,
      seq: 3,
    });
  });

  it('let an integrator rebuild the log chain and check the signed head with libsodium alone', async () => {
    const statements = await load('statements');
    const authorityKey = fromBase64Url(statements.authority.signingKey);
    let previous = sodium.to_base64(new Uint8Array(32), 7);
    statements.statements.forEach((signed: { payload: string }, i: number) => {
      const payload = fromBase64Url(signed.payload);
      const statement = JSON.parse(fromUtf8(payload));
      expect(statement.seq).toBe(i + 1);
      expect(statement.prev).toBe(previous);
      const hash = sodium.crypto_generichash(
        32,
        encode(['liaison/v1/statement-hash', payload]),
        null,
      );
      previous = sodium.to_base64(hash, 7);
      expect(previous).toBe(statements.hashes[i]);
    });
    const headPayload = fromBase64Url(statements.head.payload);
    const signatureInput = encode(['liaison/v1/directory-head', headPayload]);
    expect(sodium.to_hex(signatureInput)).toBe(statements.headSignatureInputHex);
    expect(
      sodium.crypto_sign_verify_detached(
        fromBase64Url(statements.head.signature),
        signatureInput,
        authorityKey,
      ),
    ).toBe(true);
    const head = JSON.parse(fromUtf8(headPayload));
    expect(head).toEqual(statements.headDecoded);
    expect(head).toMatchObject({ version: statements.statements.length, hash: previous });
    expect(head.issuedAt).toBeLessThanOrEqual(statements.headValidAt);
    expect(head.expiresAt).toBeGreaterThan(statements.headValidAt);
  });

  it('let an integrator reproduce header bytes, check signatures and open every wrapped key', async () => {
    const keys = await load('keys');
    const signers = new Map<string, Uint8Array>(
      keys.devices.map((d: { deviceId: string; signingPublicKey: string }) => [
        d.deviceId,
        fromBase64Url(d.signingPublicKey),
      ]),
    );
    for (const name of ['envelope-chat', 'envelope-alert']) {
      const vector = await load(name);
      const envelope = Envelope.parse(vector.envelope);
      expect(sodium.to_hex(headerBytes(envelope.header))).toBe(vector.headerBytesHex);
      const signer = signers.get(envelope.header.sender.deviceId) as Uint8Array;
      const signatureInput = sodium.from_hex(vector.signatureInputHex);
      expect(
        sodium.crypto_sign_verify_detached(
          fromBase64Url(envelope.signature),
          signatureInput,
          signer,
        ),
      ).toBe(true);

      for (const [i, recipient] of envelope.recipients.entries()) {
        const device = keys.devices.find(
          (d: { deviceId: string }) => d.deviceId === recipient.deviceId,
        );
        // Sealed to the prekey the entry names (its seed is in the vector), else the certified key.
        const prekey = vector.prekeys.find(
          (p: { deviceId: string }) => p.deviceId === recipient.deviceId,
        );
        expect(recipient.prekeyId !== undefined).toBe(prekey !== undefined);
        const pair = sodium.crypto_box_seed_keypair(
          fromBase64Url(prekey ? prekey.seed : device.encryptionSeed),
        );
        if (prekey) {
          const payload = JSON.parse(fromUtf8(fromBase64Url(prekey.signed.payload)));
          expect(payload.prekeyId).toBe(recipient.prekeyId);
          expect(payload.publicKey).toBe(sodium.to_base64(pair.publicKey, 7));
        }
        const wrapped = fromBase64Url(recipient.wrappedKey);
        const contentKey = sodium.crypto_box_seal_open(wrapped, pair.publicKey, pair.privateKey);
        expect(sodium.to_base64(contentKey, 7)).toBe(vector.contentKey);
        // Anyone with the content key rebuilds the wrap byte for byte from the derived seed.
        const ephemeral = vector.ephemeral[i];
        const seedInput = sodium.from_hex(ephemeral.seedInputHex);
        const seed = sodium.crypto_generichash(32, seedInput, contentKey);
        expect(sodium.to_base64(seed, 7)).toBe(ephemeral.seed);
        const esk = sodium.crypto_box_seed_keypair(seed);
        expect(sodium.to_base64(esk.publicKey, 7)).toBe(ephemeral.publicKey);
        const boxNonce = sodium.crypto_generichash(
          24,
          new Uint8Array([...esk.publicKey, ...pair.publicKey]),
          null,
        );
        const rebuilt = new Uint8Array([
          ...esk.publicKey,
          ...sodium.crypto_box_easy(contentKey, boxNonce, pair.publicKey, esk.privateKey),
        ]);
        expect(sodium.to_hex(rebuilt)).toBe(sodium.to_hex(wrapped));
      }
      // The header commits to the content key.
      const commitment = sodium.crypto_generichash(
        32,
        sodium.from_hex(vector.keyCommitmentInputHex),
        null,
      );
      expect(sodium.to_base64(commitment, 7)).toBe(envelope.header.keyCommitment);
      const plaintext = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
        null,
        fromBase64Url(envelope.ciphertext),
        sodium.from_hex(vector.headerBytesHex),
        fromBase64Url(vector.nonce),
        fromBase64Url(vector.contentKey),
      );
      expect(plaintext.length).toBe(vector.paddedLength);
      expect(fromUtf8(plaintext).trimEnd()).toBe(vector.plaintextJson);
      expect(fromUtf8(plaintext).slice(vector.plaintextJson.length).trim()).toBe('');
    }
  });

  it('open with the SDK for every recipient, and the token verifies at its time', async () => {
    const statements = await load('statements');
    const keys = await load('keys');
    const directory = new Directory(await pinAuthority(statements.authority));
    directory.applyAll(statements.statements);
    const identity = async (deviceId: string) => {
      const d = keys.devices.find((x: { deviceId: string }) => x.deviceId === deviceId);
      return generateDeviceKeys(deviceId, {
        signing: fromBase64Url(d.signingSeed),
        encryption: fromBase64Url(d.encryptionSeed),
      });
    };
    for (const name of ['envelope-chat', 'envelope-alert']) {
      const vector = await load(name);
      for (const deviceId of ['KG-AKZHOL/desk-1', 'KG-AKZHOL/duty-1', 'CARICC/hub']) {
        const keys = await identity(deviceId);
        const opened = await openEnvelope(
          vector.envelope,
          keys,
          directory,
          vector.openAt,
          {},
          vectorPrekeys(vector.prekeys, deviceId, directory),
        );
        expect(opened.body).toEqual(vector.body);
      }
    }
    const token = await load('token');
    const verified = await verifyClientToken(token.token, directory, {
      audience: token.audience,
      now: token.verifyAt,
    });
    expect(verified.claims.iss).toBe('KZ-KORDAI/desk-1');
  });
});

describe('the attachment vector (PROTOCOL.md §8.2)', () => {
  it('opens with libsodium alone, and the SDK opens it the same way', async () => {
    const vector = await load('attachment');
    const { attachment } = vector;
    const chunk1 = Buffer.from(vector.chunks[1].hex, 'hex');
    // An integrator rebuilds chunk 0 from the file rule, key and header: it must hash the same.
    const file = vectorFile(vector.file.size);
    const push = sodium.crypto_secretstream_xchacha20poly1305_init_pull(
      fromBase64Url(attachment.header),
      fromBase64Url(attachment.key),
    );
    const chunk0 = sodium.crypto_secretstream_xchacha20poly1305_push(
      push,
      file.subarray(0, ATTACHMENT_CHUNK_BYTES),
      null,
      sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE,
    );
    expect(sodium.to_hex(sodium.crypto_generichash(32, chunk0, null))).toBe(
      vector.chunks[0].blake2b256Hex,
    );
    const opened = await openAttachment(attachment, async (_, i) => (i === 0 ? chunk0 : chunk1));
    expect(Buffer.from(opened.bytes).equals(Buffer.from(file))).toBe(true);
    expect(opened.type).toBe(vector.file.sniffedType);
  });

  it('let an integrator rebuild the compact bytes of both envelopes field by field, and read them back', async () => {
    const vector = await load('envelope-compact');
    expect(vector.items.map((i: { of: string }) => i.of)).toEqual([
      'envelope-chat',
      'envelope-alert',
    ]);
    for (const item of vector.items) {
      // The same envelope as its own vector file, byte for byte.
      expect(item.envelope).toEqual((await load(item.of)).envelope);
      const bytes = Buffer.from(item.compactHex, 'hex');
      expect(item.fields.map((f: { hex: string }) => f.hex).join('')).toBe(item.compactHex);
      expect(Buffer.from(encodeCompactEnvelope(Envelope.parse(item.envelope))).equals(bytes)).toBe(
        true,
      );
      expect(decodeCompactEnvelope(bytes)).toEqual(item.envelope);
      expect(bytes.length).toBe(item.compactBytes);
    }
  });
});
