import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deliveryMessage } from '../../src/engine/inboxes.js';
import {
  deviceEventOf,
  encodedDelivery,
  officeEventOf,
} from '../../src/gateway/channel-messages.js';

describe('channel messages', () => {
  it('a push becomes the packet socket.emit would write, byte for byte, without being parsed', () => {
    // Socket.IO's encoder writes an EVENT of the main namespace as '2' and the JSON of
    // [event, ...args] (socket.io-parser, encodeAsString); the client parses exactly that.
    fc.assert(
      fc.property(
        fc.nat(),
        fc.nat(),
        // Through JSON once: -0 is spelled 0, as it is on the wire.
        fc.jsonValue().map((value) => JSON.parse(JSON.stringify({ header: value, more: [value] }))),
        (offset, acceptedAt, envelope) => {
          const message = deliveryMessage(offset, acceptedAt, JSON.stringify(envelope));
          const packet = encodedDelivery(message);
          expect(packet).toBe(`2${JSON.stringify(['envelope', { offset, acceptedAt, envelope }])}`);
          expect(JSON.parse((packet as string).slice(1))).toEqual([
            'envelope',
            { offset, acceptedAt, envelope },
          ]);
          expect(deviceEventOf(message)).toEqual({
            kind: 'delivery',
            offset,
            acceptedAt,
            envelope,
          });
        },
      ),
    );
  });

  it('anything else is no push, and what makes no valid event is refused, never thrown', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        if (!text.startsWith('{"type":"envelope",')) expect(encodedDelivery(text)).toBeUndefined();
        expect(() => [deviceEventOf(text), officeEventOf(text)]).not.toThrow();
      }),
    );
    const id = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';
    const status = (ids: unknown, deviceId: unknown = 'KZ-KORDAI/desk-1') =>
      JSON.stringify({ type: 'status', ids, deviceId, at: 1 });
    expect(deviceEventOf(status([id, id]))).toEqual({
      kind: 'statuses',
      events: [
        { id, status: 'delivered', deviceId: 'KZ-KORDAI/desk-1', at: 1 },
        { id, status: 'delivered', deviceId: 'KZ-KORDAI/desk-1', at: 1 },
      ],
    });
    expect(deviceEventOf(status([id, 'not-an-id']))).toBeUndefined();
    expect(deviceEventOf(status([id], 'nobody'))).toBeUndefined();
    expect(deviceEventOf(status(new Array(501).fill(id)))).toBeUndefined();
    expect(deviceEventOf(status([]))).toBeUndefined();
    expect(
      officeEventOf('{"type":"presence","officeId":"KZ-KORDAI","online":true,"at":5}'),
    ).toEqual({ event: 'presence', payload: { officeId: 'KZ-KORDAI', online: true, at: 5 } });
    expect(officeEventOf('{"type":"presence","officeId":"KZ-KORDAI","online":1,"at":5}')).toBe(
      undefined,
    );
  });
});
