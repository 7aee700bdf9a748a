// Envelope and certificate throughput on one core: what a device, the hub and a relay pay per message.
import { issueCertificate, verifyCertificate } from '../src/crypto/certificate.js';
import { backend, useBackend } from '../src/crypto/current.js';
import { loadNativeBackend } from '../src/crypto/native-backend.js';
import { sodium } from '../src/crypto/sodium.js';
import { openEnvelope, verifyEnvelope } from '../src/envelope/open.js';
import { sealEnvelope } from '../src/envelope/seal.js';
import { buildWorld, device, NOW } from '../test/fixtures/world.js';

export interface Figure {
  readonly name: string;
  readonly opsPerSecond: number;
  readonly microsecondsPerOp: number;
  readonly ops: number;
}

/** Runs `op` repeatedly for about `seconds` and reports its rate. */
async function measure(name: string, seconds: number, op: () => unknown): Promise<Figure> {
  for (let i = 0; i < 50; i++) await op(); // warm up the JIT
  let ops = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(seconds * 1e9));
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < 20; i++) await op();
    ops += 20;
    now = process.hrtime.bigint();
  }
  const elapsed = Number(now - start) / 1e9;
  return { name, ops, opsPerSecond: ops / elapsed, microsecondsPerOp: (elapsed / ops) * 1e6 };
}

/** 1 KiB of chat text, like a long operator message. */
const CHAT_1KIB = 'Convoy of three trucks heading to Ak-Zhol, plates on file. '
  .repeat(18)
  .slice(0, 1024);

export async function benchCrypto(seconds: number): Promise<Figure[]> {
  const world = await buildWorld();
  const sender = device(world, 'KZ-KORDAI/desk-1');
  const reader = device(world, 'KG-AKZHOL/desk-1');
  const recipients = world.directory.recipientKeys(['KG-AKZHOL'], NOW);
  if (recipients.length !== 3) throw new Error('expected two devices and the hub');
  const seal = () =>
    sealEnvelope({
      sender,
      to: ['KG-AKZHOL'],
      body: { type: 'chat', text: CHAT_1KIB },
      recipients,
      counter: 1,
      directory: world.directory.head,
      createdAt: NOW,
    });
  const envelope = await seal();
  const opened = await openEnvelope(envelope, reader, world.directory, NOW);
  // A functional check even in the quick mode: the benchmark measures a working path.
  if (opened.body.type !== 'chat' || opened.body.text !== CHAT_1KIB) {
    throw new Error('round trip changed the message');
  }
  const certificate = await issueCertificate(world.authority, {
    role: 'device',
    deviceId: sender.deviceId,
    country: 'KZ',
    signingPublicKey: sender.signingPublicKey,
    encryptionPublicKey: sender.encryptionPublicKey,
    notBefore: NOW,
    notAfter: NOW + 1,
  });
  // The floor: the same libsodium calls with no schema, encoding or directory work around them.
  const key = sodium.crypto_aead_xchacha20poly1305_ietf_keygen();
  const message = sodium.from_string(CHAT_1KIB);
  const rawSeal = () => {
    const nonce = sodium.randombytes_buf(24);
    const ciphertext = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
      message,
      null,
      null,
      nonce,
      key,
    );
    const wrapped = recipients.map((r) => sodium.crypto_box_seal(key, r.encryptionPublicKey));
    sodium.crypto_sign_detached(
      new Uint8Array([...ciphertext, ...wrapped.flatMap((w) => [...w])]),
      sender.signingSecretKey,
    );
  };
  // What the servers run on: the same open and verify on native libsodium.
  const native = loadNativeBackend().backend;
  const before = backend();
  const onNative: Figure[] = [];
  if (native) {
    useBackend(native);
    try {
      onNative.push(
        await measure('open 1 KiB chat, sodium-native', seconds, () =>
          openEnvelope(envelope, reader, world.directory, NOW),
        ),
        await measure('verify envelope only, sodium-native', seconds, () =>
          verifyEnvelope(envelope, world.directory, NOW),
        ),
      );
    } finally {
      useBackend(before);
    }
  }
  return [
    ...onNative,
    await measure('baseline: raw libsodium seal (AEAD + 3 box_seal + sign)', seconds, rawSeal),
    await measure('seal 1 KiB chat to 3 keys', seconds, seal),
    await measure('open 1 KiB chat (verify + decrypt)', seconds, () =>
      openEnvelope(envelope, reader, world.directory, NOW),
    ),
    await measure('verify envelope only (hub/relay)', seconds, () =>
      verifyEnvelope(envelope, world.directory, NOW),
    ),
    await measure('verify certificate', seconds, () =>
      verifyCertificate(certificate, world.directory.authority),
    ),
  ];
}
