import type { z } from 'zod';
import { EscalationEvent, PresenceEvent, StatusEvent } from '../../protocol/v1/events.js';

// What a gateway reads on a device's or an office's channel, turned into the events it pushes.
// A channel carries whatever was published on it, and whoever can write to Redis can publish:
// nothing read here is trusted to be what our own publishers wrote. What does not make a valid
// event is dropped (the caller counts it); nothing here throws.

/** How the engine spells a push (deliveryMessage() in engine/inboxes.ts and the accept script). */
const DELIVERY_PREFIX = '{"type":"envelope",';

/**
 * The Socket.IO packet of an `envelope` event made from a push as it came, for a connection that
 * reads JSON envelopes: the stored text goes to the socket as it is, never parsed and encoded
 * again on the hot path. `2` is an EVENT packet of the main namespace without an ack id, the
 * same text `socket.emit('envelope', {offset, acceptedAt, envelope})` writes. Undefined for any
 * other message. The text is not validated: a Redis writer's garbage here makes a frame the
 * client cannot parse, and the client reconnects and fetches; the client checks every envelope
 * it opens in any case (the gateway is not trusted with them).
 */
export function encodedDelivery(message: string): string | undefined {
  // A record separator ends an Engine.IO packet in the polling transport's payloads: never in
  // what our publishers write (JSON escapes it), refused so no transport can be given a second packet.
  if (!message.startsWith(DELIVERY_PREFIX) || message.includes('\x1e')) return undefined;
  return `2["envelope",{${message.slice(DELIVERY_PREFIX.length)}]`;
}

const parsed = (message: string): Record<string, unknown> | undefined => {
  try {
    const value: unknown = JSON.parse(message);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
};

/** Most ids one status message may carry (STATUS_BATCH in connection.ts is what we publish). */
const MAX_STATUS_IDS = 500;

/**
 * What a device message stands for, parsed once: a push of a stored envelope (for connections
 * that need the object: compact ones), or the `envelope:status` events of a status message;
 * undefined when it is neither.
 */
export function deviceEventOf(
  message: string,
):
  | { kind: 'delivery'; offset: unknown; acceptedAt: unknown; envelope: unknown }
  | { kind: 'statuses'; events: z.infer<typeof StatusEvent>[] }
  | undefined {
  const m = parsed(message);
  if (m?.type === 'envelope')
    return { kind: 'delivery', offset: m.offset, acceptedAt: m.acceptedAt, envelope: m.envelope };
  if (m?.type !== 'status' || !Array.isArray(m.ids) || m.ids.length > MAX_STATUS_IDS) return;
  const events = m.ids.map((id) => ({ id, status: 'delivered', deviceId: m.deviceId, at: m.at }));
  // One check of the shared fields with the schema, then each id: the ids are what vary.
  const [first] = events;
  if (first === undefined || !StatusEvent.safeParse(first).success) return;
  const id = StatusEvent.shape.id;
  return events.every((event) => id.safeParse(event.id).success)
    ? { kind: 'statuses', events: events as z.infer<typeof StatusEvent>[] }
    : undefined;
}

/** The event an office message stands for (an escalation or a presence change), or undefined. */
export function officeEventOf(
  message: string,
):
  | { event: 'alert:escalated'; payload: z.infer<typeof EscalationEvent> }
  | { event: 'presence'; payload: z.infer<typeof PresenceEvent> }
  | undefined {
  const m = parsed(message);
  if (m?.type === 'escalation') {
    const { alertId, precedence, to, acceptedAt, escalatedAt } = m;
    const event = EscalationEvent.safeParse({ alertId, precedence, to, acceptedAt, escalatedAt });
    return event.success ? { event: 'alert:escalated', payload: event.data } : undefined;
  }
  if (m?.type === 'presence') {
    const event = PresenceEvent.safeParse({ officeId: m.officeId, online: m.online, at: m.at });
    return event.success ? { event: 'presence', payload: event.data } : undefined;
  }
  return undefined;
}
