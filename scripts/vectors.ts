// Builds the deterministic test vectors of protocol/vectors/ from fixed seeds. Shared by the
// generator script and by the test that checks the files are reproducible.

import type { Signed } from '../protocol/v1/certificate.js';
import type { AlertBody } from '../protocol/v1/payload.js';
import { PREKEY_LIFETIME_MS } from '../protocol/v1/prekey.js';
import { issueCertificate, pinAuthority, publishAuthority } from '../src/crypto/certificate.js';
import { encode } from '../src/crypto/encoding.js';
import {
  type DeviceKeys,
  fingerprint,
  generateAuthorityKeys,
  generateDeviceKeys,
} from '../src/crypto/keys.js';
import { makePrekey, pickPrekey, signPrekey } from '../src/crypto/prekey.js';
import { ready, sodium, toBase64Url, utf8 } from '../src/crypto/sodium.js';
import { StatementLog, signDirectoryHead, statementHash } from '../src/crypto/statement.js';
import { createClientToken } from '../src/crypto/token.js';
import { signCheckpoint } from '../src/directory/checkpoint.js';
import { Directory } from '../src/directory/directory.js';
import { headerBytes, signatureInput } from '../src/envelope/layout.js';
import { paddedLength } from '../src/envelope/padding.js';
import { type Entropy, sealEnvelope } from '../src/envelope/seal.js';
import { attachmentVector } from './attachment-vectors.js';
import { compactVector } from './compact-vectors.js';
import { enrolmentVector, keyFileVector } from './key-vectors.js';
import { prekeyVector } from './prekey-vectors.js';

export const VECTOR_TIME = Date.UTC(2026, 0, 15, 8, 30, 0);
/** The counter every vector envelope carries (§7.6): Kordai's desk's 7th envelope to Ak-Zhol. */
export const VECTOR_COUNTER = 7;
const VALID_FROM = Date.UTC(2026, 0, 1);
const VALID_UNTIL = Date.UTC(2027, 0, 1);

const hex = (bytes: Uint8Array) => sodium.to_hex(bytes);
const fixed = (label: string, length = 32) =>
  sodium.crypto_generichash(length, encode(['liaison/v1/test-vector', label]), null);

/** A reproducible byte stream that records what it handed out, so the vector can show it. */
function recordingEntropy(label: string): Entropy & { drawn: string[] } {
  let counter = 0;
  const drawn: string[] = [];
  return {
    drawn,
    randomBytes(length) {
      const bytes = fixed(`${label}#${counter++}`, length);
      drawn.push(toBase64Url(bytes));
      return bytes;
    },
  };
}

const DEVICE_IDS = ['KZ-KORDAI/desk-1', 'KG-AKZHOL/desk-1', 'KG-AKZHOL/duty-1', 'CARICC/hub'];

export async function buildVectors(): Promise<Record<string, unknown>> {
  await ready;
  const authoritySeed = fixed('authority');
  const authority = await generateAuthorityKeys({ signing: authoritySeed });
  const published = publishAuthority(authority, 'CARICC test-vector authority');
  const directory = new Directory(await pinAuthority(published));

  const devices: Record<string, DeviceKeys> = {};
  const keys = [];
  for (const deviceId of DEVICE_IDS) {
    const seeds = {
      signing: fixed(`${deviceId} signing`),
      encryption: fixed(`${deviceId} encryption`),
    };
    const device = await generateDeviceKeys(deviceId, seeds);
    devices[deviceId] = device;
    keys.push({
      deviceId,
      keyId: device.keyId,
      signingSeed: toBase64Url(seeds.signing),
      signingPublicKey: toBase64Url(device.signingPublicKey),
      encryptionSeed: toBase64Url(seeds.encryption),
      encryptionSecretKey: toBase64Url(device.encryptionSecretKey),
      encryptionPublicKey: toBase64Url(device.encryptionPublicKey),
      fingerprint: fingerprint(device.signingPublicKey, device.encryptionPublicKey),
    });
  }

  let statementCounter = 0;
  const at = () => ({
    issuedAt: VALID_FROM,
    id: `00000000-0000-4000-8000-${String(++statementCounter).padStart(12, '0')}`,
  });
  const log = new StatementLog(authority);
  const offices = [
    { officeId: 'CARICC', country: 'KZ', name: 'CARICC hub, Almaty', bcp: 'Almaty' },
    { officeId: 'KZ-KORDAI', country: 'KZ', name: 'BLO Kordai', bcp: 'Kordai' },
    { officeId: 'KG-AKZHOL', country: 'KG', name: 'BLO Ak-Zhol', bcp: 'Ak-Zhol' },
  ] as const;
  for (const office of offices) {
    await log.sign('office.registered', { ...office }, at());
  }
  const certificates = [];
  for (const deviceId of DEVICE_IDS) {
    const device = devices[deviceId] as DeviceKeys;
    const certificate = await issueCertificate(authority, {
      role: deviceId === 'CARICC/hub' ? 'hub' : 'device',
      deviceId,
      country: deviceId.startsWith('KG') ? 'KG' : 'KZ',
      signingPublicKey: device.signingPublicKey,
      encryptionPublicKey: device.encryptionPublicKey,
      notBefore: VALID_FROM,
      notAfter: VALID_UNTIL,
    });
    certificates.push({
      deviceId,
      certificate,
      payloadJson: Buffer.from(certificate.payload, 'base64url').toString('utf8'),
      signatureInputHex: hex(
        encode(['liaison/v1/certificate', Buffer.from(certificate.payload, 'base64url')]),
      ),
    });
    await log.sign('device.enrolled', { certificate }, at());
  }
  const link = await log.sign('link.created', { offices: ['KG-AKZHOL', 'KZ-KORDAI'] }, at());
  const { statements } = log;
  directory.applyAll(statements);
  const head = await signDirectoryHead(authority, log.head, {
    issuedAt: VALID_FROM,
    expiresAt: VALID_UNTIL,
  });

  const kordai = devices['KZ-KORDAI/desk-1'] as DeviceKeys;
  const token = await createClientToken(kordai, {
    audience: 'wss://gateway.liaison.example',
    issuedAt: VECTOR_TIME / 1000,
    lifetimeSeconds: 120,
    jti: '00000000-0000-4000-8000-00000000a001',
  });

  // KG-AKZHOL/desk-1 and the hub published a prekey for the day (fixed seeds); KG-AKZHOL/duty-1
  // published none, so its wrap goes to its certified key (PROTOCOL.md §7.2, the fallback).
  const day = Math.floor(VECTOR_TIME / PREKEY_LIFETIME_MS) * PREKEY_LIFETIME_MS;
  const prekeys: Record<string, { signed: Signed; seed: string }> = {};
  for (const deviceId of ['KG-AKZHOL/desk-1', 'CARICC/hub']) {
    const seed = fixed(`${deviceId} prekey`);
    const pair = makePrekey(devices[deviceId] as DeviceKeys, day, VALID_FROM, seed);
    prekeys[deviceId] = {
      signed: signPrekey(pair.payload, devices[deviceId] as DeviceKeys),
      seed: toBase64Url(seed),
    };
  }
  const recipients = directory.recipientKeys(['KG-AKZHOL'], VECTOR_TIME).map((key) => {
    const published = prekeys[key.deviceId];
    if (!published) return key;
    const certificate = directory.usableKey(key.deviceId, key.keyId, VECTOR_TIME);
    const prekey = pickPrekey([published.signed], certificate, VECTOR_TIME);
    return { ...key, prekeyId: prekey.prekeyId, encryptionPublicKey: prekey.publicKeyBytes };
  });
  const envelopeVector = async (
    name: string,
    id: string,
    body: Parameters<typeof sealEnvelope>[0]['body'],
  ) => {
    const entropy = recordingEntropy(name);
    const envelope = await sealEnvelope(
      {
        sender: kordai,
        to: ['KG-AKZHOL'],
        body,
        recipients,
        counter: VECTOR_COUNTER,
        directory: directory.head,
        id,
        createdAt: VECTOR_TIME,
      },
      entropy,
    );
    const [contentKey = '', nonce] = entropy.drawn;
    const key = Buffer.from(contentKey, 'base64url');
    const header = headerBytes(envelope.header);
    return {
      description: `A ${body.type} from KZ-KORDAI/desk-1 to KG-AKZHOL, wrapped for its two devices and the hub: desk-1 and the hub on their prekeys, duty-1 (no prekey published) on its certified key`,
      openAt: VECTOR_TIME,
      // What prekeys:get served the sender; `seed` gives the private half (crypto_box_seed_keypair).
      prekeys: Object.entries(prekeys).map(([deviceId, p]) => ({ deviceId, ...p })),
      envelope,
      headerBytesHex: hex(header),
      signatureInputHex: hex(
        signatureInput(
          header,
          Buffer.from(envelope.nonce, 'base64url'),
          Buffer.from(envelope.ciphertext, 'base64url'),
          envelope.recipients,
        ),
      ),
      contentKey,
      nonce,
      keyCommitmentInputHex: hex(encode(['liaison/v2/key-commitment', id, key])),
      // Each wrap's ephemeral key pair is made from a seed derived from the content key (§7.2).
      ephemeral: envelope.recipients.map((r) => {
        const seedInput = encode(['liaison/v4/wrap', id, r.deviceId, r.keyId, r.prekeyId ?? '']);
        const seed = sodium.crypto_generichash(32, seedInput, key);
        return {
          deviceId: r.deviceId,
          seedInputHex: hex(seedInput),
          seed: toBase64Url(seed),
          publicKey: toBase64Url(sodium.crypto_box_seed_keypair(seed).publicKey),
        };
      }),
      plaintextJson: JSON.stringify({ v: 1, envelopeId: id, sender: kordai.deviceId, body }),
      // The plaintext is that JSON padded with spaces to its Padmé length (§7.2, "Padding").
      paddedLength: paddedLength(
        utf8(JSON.stringify({ v: 1, envelopeId: id, sender: kordai.deviceId, body })).length,
      ),
      body,
    };
  };
  const alert: AlertBody = {
    type: 'alert',
    category: 'drug-seizure',
    precedence: 'IMMEDIATE',
    title: '14 kg of hashish found in a spare tyre',
    description: 'Second vehicle of the convoy turned back before inspection; may try Ak-Zhol.',
    location: { bcp: 'Kordai', coordinates: { lat: 43.0441, lon: 74.7092 } },
    subjects: [
      { kind: 'vehicle', plate: '01 KG 777 ABC', country: 'KG', description: 'white Lexus LX' },
      { kind: 'document', documentType: 'passport', number: 'AC1234567', issuingCountry: 'KG' },
    ],
    validFrom: VECTOR_TIME,
    validUntil: VECTOR_TIME + 24 * 3600_000,
  };

  const chatVector = await envelopeVector('chat', '00000000-0000-4000-8000-00000000c001', {
    type: 'chat',
    text: 'Салам, Ак-Жол! Convoy of 3 trucks heading to you at 10:40.',
  });
  const alertVector = await envelopeVector('alert', '00000000-0000-4000-8000-00000000e001', alert);
  return {
    keys: {
      description: 'Fixed keys: seed = BLAKE2b-256(encode(["liaison/v1/test-vector", label]))',
      authority: {
        seed: toBase64Url(authoritySeed),
        published,
      },
      devices: keys,
    },
    certificates: {
      description: 'Device and hub certificates signed by the authority',
      certificates,
    },
    statements: {
      description:
        'A directory log: offices, device enrolments and one link, in order, each naming the hash of the one before; and the head the authority signed over it',
      authority: published,
      statements,
      decoded: statements.map((s) => JSON.parse(Buffer.from(s.payload, 'base64url').toString())),
      linkSignatureInputHex: hex(
        encode(['liaison/v1/statement', Buffer.from(link.payload, 'base64url')]),
      ),
      // Each statement's hash, which the next one names as `prev` and the head as `hash`.
      hashes: statements.map((s) => statementHash(s)),
      head,
      headDecoded: JSON.parse(Buffer.from(head.payload, 'base64url').toString()),
      headSignatureInputHex: hex(
        encode(['liaison/v1/directory-head', Buffer.from(head.payload, 'base64url')]),
      ),
      headValidAt: VECTOR_TIME,
    },
    token: {
      description: 'A client token of KZ-KORDAI/desk-1; valid at verifyAt',
      token,
      audience: 'wss://gateway.liaison.example',
      verifyAt: VECTOR_TIME + 10_000,
      signingInputHex: hex(utf8(token.split('.').slice(0, 2).join('.'))),
    },
    'envelope-chat': chatVector,
    'envelope-alert': alertVector,
    'envelope-compact': compactVector([
      { of: 'envelope-chat', envelope: chatVector.envelope },
      { of: 'envelope-alert', envelope: alertVector.envelope },
    ]),
    checkpoint: await checkpointVector(devices['CARICC/hub'] as DeviceKeys),
    'key-file': await keyFileVector(fixed),
    enrolment: await enrolmentVector(fixed, VECTOR_TIME),
    prekey: await prekeyVector(fixed, VECTOR_TIME),
    attachment: await attachmentVector(fixed),
  };
}

/** A record checkpoint the vector hub signs over a record of three entries. */
async function checkpointVector(hub: DeviceKeys) {
  const head = { seq: 3, hash: hex(fixed('record-head')) };
  const checkpoint = await signCheckpoint(hub, head, VECTOR_TIME);
  return {
    description:
      'A record checkpoint signed by CARICC/hub with its signing key (verify it with the hub certificate)',
    checkpoint,
    payloadJson: Buffer.from(checkpoint.payload, 'base64url').toString('utf8'),
    signatureInputHex: hex(
      encode(['liaison/v1/record-checkpoint', Buffer.from(checkpoint.payload, 'base64url')]),
    ),
  };
}

/** The files as written to protocol/vectors/. */
export async function renderVectors(): Promise<Record<string, string>> {
  const vectors = await buildVectors();
  return Object.fromEntries(
    Object.entries(vectors).map(([name, value]) => [name, `${JSON.stringify(value, null, 2)}\n`]),
  );
}
