import { z } from 'zod';
import {
  BlobGetAck,
  BlobGetRequest,
  BlobPutAck,
  BlobPutRequest,
  BlobSealAck,
  BlobSealRequest,
  BlobStatusAck,
  BlobStatusRequest,
} from './blob.js';
import { Signed } from './certificate.js';
import { WireEncoding } from './compact.js';
import { Envelope } from './envelope.js';
import { DeviceId, KeyId, OfficeId, Timestamp, Uuid, WireError } from './primitives.js';

/** Position in one device's inbox: increases by one per stored envelope, never reused. */
export const Offset = z.int().min(0).max(Number.MAX_SAFE_INTEGER);

/**
 * Socket.IO handshake: `io(url, { auth: { token }, transports: ['websocket'] })`; with
 * `encoding: 'compact'` a device asks for envelopes in the compact encoding (PROTOCOL.md §9.5).
 */
export const HandshakeAuth = z.strictObject({
  token: z.string().min(1).max(4096),
  encoding: WireEncoding.optional().describe(
    'how envelopes travel on this connection: json (absent: the default) or compact (§9.5)',
  ),
});

const failure = z.strictObject({ ok: z.literal(false), error: WireError });
/** Every ack is either `{ ok: true, ... }` or `{ ok: false, error }`. */
export const ackOf = <T extends z.ZodRawShape>(shape: T) =>
  z.discriminatedUnion('ok', [z.strictObject({ ok: z.literal(true), ...shape }), failure]);

// Client → server

/** `envelope:send` — the payload is the envelope itself. */
export const SendRequest = Envelope;
export const SendAck = ackOf({
  id: Uuid,
  seq: z.int().min(1).describe("the gateway's acceptance sequence for this sender"),
  acceptedAt: Timestamp,
  duplicate: z.boolean().describe('true when this id was accepted before; nothing new was stored'),
});

/** `inbox:fetch` — a page of the device's inbox after `after`. */
export const FetchRequest = z.strictObject({
  after: Offset,
  limit: z.int().min(1).max(500).default(100),
});

/** One stored envelope as a device receives it (pushed or fetched). */
export const Delivery = z.strictObject({
  offset: Offset,
  acceptedAt: Timestamp,
  envelope: Envelope,
});
export type Delivery = z.infer<typeof Delivery>;

export const FetchAck = ackOf({
  items: z.array(Delivery),
  more: z.boolean(),
  gap: z
    .strictObject({ from: Offset, to: Offset, reason: z.enum(['expired', 'trimmed']) })
    .nullable()
    .describe('offsets from..to (inclusive) can no longer be delivered; never silent'),
  lost: z
    .array(z.strictObject({ offset: Offset, id: Uuid, code: z.literal('ENVELOPE_LOST') }))
    .optional()
    .describe(
      "entries of this page (ascending offsets) whose envelope the gateway's store no longer holds; absent when none",
    ),
});

/** `inbox:ack` — everything up to and including `upTo` was processed and may be removed. */
export const InboxAckRequest = z.strictObject({ upTo: Offset });
export const InboxAckAck = ackOf({ upTo: Offset });

/** `token:refresh` — a fresh token before the current one expires, or the socket is closed. */
export const RefreshRequest = z.strictObject({ token: z.string().min(1).max(4096) });
export const RefreshAck = ackOf({ expiresAt: Timestamp });

/** `record:checkpoint`: the newest checkpoint the hub signed of its record (PROTOCOL.md §10a). */
export const CheckpointRequest = z.strictObject({});
export const CheckpointAck = ackOf({
  checkpoint: Signed.nullable().describe('null until the hub signed one; verify it yourself'),
});

// Server → client

/** `envelope` — a new delivery, pushed. Acknowledge with `inbox:ack`. */
export const EnvelopeEvent = Delivery;

/** `envelope:status` — a recipient device has the sender's envelope. */
export const StatusEvent = z.strictObject({
  id: Uuid,
  status: z.literal('delivered'),
  deviceId: DeviceId,
  at: Timestamp,
});

/** `presence` — a linked office came online or went offline. */
export const PresenceEvent = z.strictObject({
  officeId: OfficeId,
  online: z.boolean(),
  at: Timestamp,
});

/**
 * Live sessions of one device a gateway instance keeps (PROTOCOL.md §9.1): one more replaces the
 * oldest, which gets `session:closing` with SESSION_REPLACED.
 */
export const MAX_SESSIONS_PER_DEVICE = 4;

/** `session:closing` — the server is about to close this socket, and why. */
export const ClosingEvent = z.strictObject({
  code: z.enum([
    'SESSION_REPLACED',
    'TOKEN_EXPIRED',
    'DEVICE_REVOKED',
    'KEY_ROTATED',
    'SERVER_SHUTDOWN',
  ]),
  reconnectAfterMs: z.int().min(0).optional(),
});

/**
 * `alert:escalated` — the hub found an alert of this office unacknowledged past its deadline
 * (FLASH 5 min, IMMEDIATE 30 min by default); CARICC's analysts got the same escalation.
 */
export const EscalationEvent = z.strictObject({
  alertId: Uuid,
  precedence: z.enum(['FLASH', 'IMMEDIATE']),
  to: z.array(OfficeId),
  acceptedAt: Timestamp,
  escalatedAt: Timestamp,
});

/**
 * `session:encoding` — the gateway took the handshake's `encoding: 'compact'`: from now on this
 * connection's `envelope` pushes and `inbox:fetch` items carry compact envelopes (PROTOCOL.md
 * §9.5). Sent once, first, and only to a connection that asked.
 */
export const EncodingEvent = z.strictObject({ encoding: z.literal('compact') });

/** Most prekeys one device keeps published: a week ahead, a day behind (PROTOCOL.md §5.6). */
export const MAX_PREKEYS_PER_DEVICE = 10;

/** `prekeys:publish` — this device's signed prekeys (PROTOCOL.md §5.6); replaces what it had. */
export const PrekeyPublishRequest = z.strictObject({
  prekeys: z.array(Signed).min(1).max(MAX_PREKEYS_PER_DEVICE),
});
export const PrekeyPublishAck = ackOf({ stored: z.int().min(0) });

/**
 * `prekeys:get` — the published prekeys of devices (a sender's recipients, the hub) valid now or
 * later; with `prekeyIds`, also those of them that have ended (a reader rebuilding a wrap).
 */
export const PrekeyGetRequest = z.strictObject({
  deviceIds: z.array(DeviceId).min(1).max(64),
  prekeyIds: z.array(KeyId).max(64).optional(),
});
export const PrekeyGetAck = ackOf({
  prekeys: z
    .array(
      z.strictObject({
        deviceId: DeviceId,
        prekeys: z.array(Signed).max(MAX_PREKEYS_PER_DEVICE),
      }),
    )
    .max(64),
});

/** Event names and their schemas, in one table. */
export const CLIENT_EVENTS = {
  'envelope:send': { request: SendRequest, ack: SendAck },
  'inbox:fetch': { request: FetchRequest, ack: FetchAck },
  'inbox:ack': { request: InboxAckRequest, ack: InboxAckAck },
  'token:refresh': { request: RefreshRequest, ack: RefreshAck },
  'record:checkpoint': { request: CheckpointRequest, ack: CheckpointAck },
  'prekeys:publish': { request: PrekeyPublishRequest, ack: PrekeyPublishAck },
  'prekeys:get': { request: PrekeyGetRequest, ack: PrekeyGetAck },
  'blob:put': { request: BlobPutRequest, ack: BlobPutAck },
  'blob:status': { request: BlobStatusRequest, ack: BlobStatusAck },
  'blob:seal': { request: BlobSealRequest, ack: BlobSealAck },
  'blob:get': { request: BlobGetRequest, ack: BlobGetAck },
} as const;

export const SERVER_EVENTS = {
  envelope: EnvelopeEvent,
  'envelope:status': StatusEvent,
  presence: PresenceEvent,
  'session:closing': ClosingEvent,
  'alert:escalated': EscalationEvent,
  'session:encoding': EncodingEvent,
} as const;
