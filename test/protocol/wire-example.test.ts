import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ERROR_CODES } from '../../protocol/errors.js';
import { decodeCompactEnvelope } from '../../protocol/v1/compact.js';
import { CLIENT_EVENTS, HandshakeAuth, SERVER_EVENTS } from '../../protocol/v1/events.js';
import { WireError } from '../../protocol/v1/primitives.js';
import {
  captureWireExchange,
  renderStep,
  SOCKET_PATH,
  wireBlocks,
} from '../../scripts/wire-exchange.js';

const protocol = join(import.meta.dirname, '..', '..', 'protocol');
const document = async () => readFile(join(protocol, 'WIRE-EXAMPLE.md'), 'utf8');

const ConnectError = z.strictObject({ message: z.string(), data: WireError });
type ClientEvent = keyof typeof CLIENT_EVENTS;
type ServerEvent = keyof typeof SERVER_EVENTS;

/** Each line of the shown frames: who, which way, the frame. */
async function shownFrames() {
  const lines = [...wireBlocks(await document()).values()].flatMap((block) => block.split('\n'));
  return lines.map((line) => {
    const m = /^(\S+) +([⇄→←✕]) (.*)$/.exec(line);
    if (!m) throw new Error(`not a frame line: ${line}`);
    return { who: m[1] as string, arrow: m[2] as string, frame: m[3] as string };
  });
}

describe('WIRE-EXAMPLE.md', () => {
  it('shows, byte for byte, what a raw WebSocket exchanges with a real gateway (no Socket.IO client)', async () => {
    const transcript = await captureWireExchange();
    const shown = wireBlocks(await document());
    expect([...shown.keys()]).toEqual(Object.keys(transcript));
    for (const [step, frames] of Object.entries(transcript)) {
      expect(shown.get(step), `step ${step} (run npx tsx scripts/wire-example.ts)`).toBe(
        renderStep(frames),
      );
    }
  });

  it('shows payloads that match the zod schemas of each event and ack, and the vectors envelope', async () => {
    const chat = JSON.parse(
      await readFile(join(protocol, 'vectors', 'envelope-chat.json'), 'utf8'),
    );
    const token = JSON.parse(await readFile(join(protocol, 'vectors', 'token.json'), 'utf8'));
    const asked = new Map<string, ClientEvent>();
    const seen = new Set<string>();
    // A binary ack's JSON waits for its attachment (the next message) to be checked.
    let awaiting: { event: ClientEvent; answer: string } | undefined;
    for (const { who, arrow, frame } of await shownFrames()) {
      if (arrow === '⇄') expect(frame).toBe(`GET ${SOCKET_PATH}`);
      if (arrow !== '→' && arrow !== '←') continue;
      if (frame.startsWith('bin ')) {
        // The one attachment: the vectors envelope in the compact encoding, in the delivery's place.
        const envelope = decodeCompactEnvelope(Buffer.from(frame.slice(4), 'hex'));
        expect(envelope).toEqual(chat.envelope);
        if (!awaiting) throw new Error('an attachment without the packet it belongs to');
        const { event, answer } = awaiting;
        const placeholder = '{"_placeholder":true,"num":0}';
        expect(answer).toContain(placeholder);
        CLIENT_EVENTS[event].ack.parse(
          JSON.parse(answer.replace(placeholder, JSON.stringify(envelope))),
        );
        awaiting = undefined;
        seen.add('binary attachment');
        continue;
      }
      const binaryAck = /^46(\d+)-(\d+)(.*)$/.exec(frame);
      if (binaryAck) {
        const [, attachments, ackId, json] = binaryAck;
        expect(attachments).toBe('1');
        const event = asked.get(`${who} ${ackId}`) as ClientEvent;
        const [answer, ...rest] = JSON.parse(json as string);
        expect(rest).toEqual([]);
        awaiting = { event, answer: JSON.stringify(answer) };
        asked.delete(`${who} ${ackId}`);
        seen.add('server 6 with id');
        continue;
      }
      const packet = /^(\d)(\d)?(\d*)(.*)$/.exec(frame);
      const [, engineType, socketType, ackId, json] = packet ?? [];
      if (engineType === '0') {
        expect(JSON.parse(json as string)).toMatchObject({ upgrades: [], pingInterval: 25_000 });
        continue;
      }
      expect(engineType, frame).toBe('4');
      const from = arrow === '→' ? 'client' : 'server';
      const kind = `${from} ${socketType}${ackId === '' ? '' : ' with id'}`;
      seen.add(kind);
      switch (kind) {
        case 'client 0':
          HandshakeAuth.parse(JSON.parse(json as string));
          break;
        case 'server 0':
          expect(JSON.parse(json as string)).toEqual({ sid: '<socket-sid>' });
          break;
        case 'client 1':
        case 'server 1':
          expect(json).toBe('');
          break;
        case 'client 2 with id': {
          const [event, payload, ...rest] = JSON.parse(json as string);
          expect(rest, 'one argument per request').toEqual([]);
          CLIENT_EVENTS[event as ClientEvent].request.parse(payload);
          if (event === 'envelope:send') expect(payload).toEqual(chat.envelope);
          asked.set(`${who} ${ackId}`, event);
          break;
        }
        case 'server 3 with id': {
          const event = asked.get(`${who} ${ackId}`) as ClientEvent;
          const [answer, ...rest] = JSON.parse(json as string);
          expect(rest).toEqual([]);
          CLIENT_EVENTS[event].ack.parse(answer);
          asked.delete(`${who} ${ackId}`);
          break;
        }
        case 'server 2': {
          const [event, payload] = JSON.parse(json as string);
          SERVER_EVENTS[event as ServerEvent].parse(payload);
          break;
        }
        case 'server 4': {
          const refusal = ConnectError.parse(JSON.parse(json as string));
          expect(ERROR_CODES).toContain(refusal.data.code);
          break;
        }
        default:
          throw new Error(`unexpected packet: ${arrow} ${frame}`);
      }
    }
    expect(asked, 'every request shown is answered').toEqual(new Map());
    expect(awaiting, 'every binary ack has its attachment').toBeUndefined();
    expect([...seen].sort()).toEqual([
      'binary attachment',
      'client 0',
      'client 1',
      'client 2 with id',
      'server 0',
      'server 2',
      'server 3 with id',
      'server 4',
      'server 6 with id',
    ]);
    expect(await document()).toContain(`kordai → 40{"token":"${token.token}"}`);
  });
});
