// Bytes on the wire per chat line (issue 17, "Weak links"), JSON against the compact encoding
// (PROTOCOL.md §9.5), and what each spelling costs a core. A chat of `textBytes` to an office of
// two devices and the hub, each sealed to a prekey, padded as sent. Frames are built by
// socket.io-parser, the encoder the gateway and the SDK use, so the counts are exact: Engine.IO
// adds "4" before a text packet and nothing to a binary one; RFC 6455 adds a 2-byte header (4
// from 126 bytes on, 10 from 64 KiB) and, client to server, a 4-byte mask. TLS is not counted.
import { Encoder, PacketType } from 'socket.io-parser';
import { decodeCompactEnvelope, encodeCompactEnvelope } from '../protocol/v1/compact.js';
import type { Envelope } from '../protocol/v1/envelope.js';
import { generateDeviceKeys } from '../src/crypto/keys.js';
import { pickPrekey } from '../src/crypto/prekey.js';
import { PrekeyStore } from '../src/crypto/prekey-store.js';
import { ready } from '../src/crypto/sodium.js';
import { parseEnvelope } from '../src/envelope/parse.js';
import { sealEnvelope } from '../src/envelope/seal.js';

export interface Spelling {
  /** The envelope alone: its JSON text in UTF-8, or its compact bytes. */
  readonly envelopeBytes: number;
  /** `envelope:send` with an ack id, as Engine.IO packets (text, then any binary attachment). */
  readonly sendPacketBytes: number;
  /** The same with the WebSocket frame headers and the client's masks. */
  readonly sendWebSocketBytes: number;
  /** The `envelope` push of the same delivery, as Engine.IO packets. */
  readonly pushPacketBytes: number;
  readonly pushWebSocketBytes: number;
}

export interface WireBytes {
  readonly textBytes: number;
  readonly recipients: number;
  readonly plaintextPaddedBytes: number;
  readonly json: Spelling;
  readonly compact: Spelling;
  /** compact / json for the pushed frame's WebSocket bytes. */
  readonly ratio: number;
}

/** A sealed chat of `textBytes` ASCII characters, as `measureWireBytes` counts it. */
export async function sampleChat(textBytes: number, now = Date.now()): Promise<Envelope> {
  await ready;
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
  return sealEnvelope({
    sender,
    to: ['KG-AKZHOL'],
    body: { type: 'chat', text: 'x'.repeat(textBytes) },
    recipients,
    counter: 1234,
    createdAt: now,
    directory: { version: 812, hash: 'A'.repeat(43) },
  });
}

const encoder = new Encoder();

/** Engine.IO packets of one Socket.IO packet, and the WebSocket frames around them. */
function packets(data: unknown[], id: number | undefined, masked: boolean) {
  const parts = encoder.encode({
    type: PacketType.EVENT,
    nsp: '/',
    data,
    ...(id === undefined ? {} : { id }),
  }) as (string | Uint8Array)[];
  let packetBytes = 0;
  let webSocketBytes = 0;
  for (const part of parts) {
    const n = typeof part === 'string' ? 1 + Buffer.byteLength(part) : part.byteLength;
    packetBytes += n;
    webSocketBytes += n + (n < 126 ? 2 : n < 65_536 ? 4 : 10) + (masked ? 4 : 0);
  }
  return { packetBytes, webSocketBytes };
}

function spelling(envelope: Envelope, payload: unknown, envelopeBytes: number): Spelling {
  const send = packets(['envelope:send', payload], 17, true);
  const delivery = { offset: 1234, acceptedAt: envelope.header.createdAt + 40, envelope: payload };
  const push = packets(['envelope', delivery], undefined, false);
  return {
    envelopeBytes,
    sendPacketBytes: send.packetBytes,
    sendWebSocketBytes: send.webSocketBytes,
    pushPacketBytes: push.packetBytes,
    pushWebSocketBytes: push.webSocketBytes,
  };
}

/** Bytes on the wire for one chat of `textBytes`, in both encodings. */
export async function measureWireBytes(textBytes: number): Promise<WireBytes> {
  const envelope = await sampleChat(textBytes);
  const compact = encodeCompactEnvelope(envelope);
  // A functional check: the compact form is the same envelope.
  if (JSON.stringify(decodeCompactEnvelope(compact)) !== JSON.stringify(envelope))
    throw new Error('the compact round trip changed the envelope');
  const json = spelling(envelope, envelope, Buffer.byteLength(JSON.stringify(envelope)));
  const small = spelling(envelope, compact, compact.length);
  return {
    textBytes,
    recipients: envelope.recipients.length,
    plaintextPaddedBytes: Buffer.from(envelope.ciphertext, 'base64url').length - 16,
    json,
    compact: small,
    ratio: Number((small.pushWebSocketBytes / json.pushWebSocketBytes).toFixed(3)),
  };
}

export interface CodecFigure {
  readonly name: string;
  readonly microsecondsPerOp: number;
}

/** Runs `op` for about `seconds` after a warm-up; µs per call. */
function time(name: string, seconds: number, op: () => unknown): CodecFigure {
  for (let i = 0; i < 200; i++) op();
  let ops = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(seconds * 1e9));
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < 50; i++) op();
    ops += 50;
    now = process.hrtime.bigint();
  }
  return { name, microsecondsPerOp: Number(((Number(now - start) / 1e3 / ops) * 1).toFixed(2)) };
}

/**
 * What the gateway does per envelope in each spelling, on one core, 1 KiB chat: in (bytes or
 * text to a checked envelope) and out (the stored object spelled for a connection).
 */
export async function benchCodec(seconds: number): Promise<CodecFigure[]> {
  const envelope = await sampleChat(1024);
  const text = JSON.stringify(envelope);
  const bytes = encodeCompactEnvelope(envelope);
  return [
    time('json in (JSON.parse + check)', seconds, () => parseEnvelope(JSON.parse(text))),
    time('compact in (decode + check)', seconds, () => parseEnvelope(decodeCompactEnvelope(bytes))),
    time('json out (JSON.stringify)', seconds, () => JSON.stringify(envelope)),
    time('compact out (encode)', seconds, () => encodeCompactEnvelope(envelope)),
  ];
}

/** The wire figures of the benchmark: 100 B and 1 KiB chats, and the codec's cost. */
export async function benchWire(seconds: number) {
  return {
    bytes: [await measureWireBytes(100), await measureWireBytes(1024)],
    codec: await benchCodec(seconds),
  };
}
