// Bytes on the wire for one chat line (issue 17, "Weak links"): the envelope's JSON and the
// Socket.IO frame that carries it, for a 1 KiB text to an office of two devices and the hub, each
// sealed to a prekey, padded (as sent) and, for comparison, unpadded. Run:
//   npx tsx scripts/measure-wire-bytes.ts [textBytes]
import { generateDeviceKeys } from '../src/crypto/keys.js';
import { pickPrekey } from '../src/crypto/prekey.js';
import { PrekeyStore } from '../src/crypto/prekey-store.js';
import { ready, utf8 } from '../src/crypto/sodium.js';
import { sealEnvelope } from '../src/envelope/seal.js';

await ready;
const size = Number(process.argv[2] ?? 1024);
const now = Date.now();
const sender = await generateDeviceKeys('KZ-KORDAI/desk-1');
const recipients = [];
for (const deviceId of ['KG-AKZHOL/desk-1', 'KG-AKZHOL/duty-1', 'CARICC/hub']) {
  const keys = await generateDeviceKeys(deviceId);
  const prekey = pickPrekey(new PrekeyStore(keys).published(now), keys, now);
  recipients.push({
    deviceId,
    keyId: keys.keyId,
    prekeyId: prekey.prekeyId,
    encryptionPublicKey: prekey.publicKeyBytes,
  });
}
const envelope = await sealEnvelope({
  sender,
  to: ['KG-AKZHOL'],
  body: { type: 'chat', text: 'x'.repeat(size) },
  recipients,
  counter: 1234,
  createdAt: now,
  directory: { version: 812, hash: 'A'.repeat(43) },
});
const json = JSON.stringify(envelope);
// A Socket.IO v5 event with an ack id over Engine.IO v4: "4" (message) "2" (event) id, JSON array.
const frame = `42${17}${JSON.stringify(['envelope:send', envelope])}`;
const ciphertextBytes = Buffer.from(envelope.ciphertext, 'base64url').length;
console.log(
  JSON.stringify(
    {
      textBytes: size,
      recipients: recipients.length,
      plaintextPaddedBytes: ciphertextBytes - 16,
      envelopeJsonBytes: utf8(json).length,
      socketIoFrameBytes: utf8(frame).length,
    },
    null,
    2,
  ),
);
