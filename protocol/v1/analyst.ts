import { z } from 'zod';
import { BlobGetAck, BlobGetRequest } from './blob.js';
import { EnvelopeKind, MAX_ENVELOPE_BYTES, Precedence } from './envelope.js';
import { ackOf, ClosingEvent, EscalationEvent, RefreshAck, RefreshRequest } from './events.js';
import { Body } from './payload.js';
import { base64UrlOf, KeyId, OfficeId, Uuid } from './primitives.js';
import { RecordBody } from './record.js';

// The hub's `/analyst` Socket.IO namespace (PROTOCOL.md §10a). The handshake is the gateway's
// (`HandshakeAuth`), with an analyst's token for the hub's audience.

/** What analysts narrow the record and the live feed by (also `GET /v1/record`'s query). */
export const RecordFilter = z.strictObject({
  office: OfficeId.optional().describe('sent by or to this office'),
  link: z
    .string()
    .regex(/^[A-Z0-9-]+,[A-Z0-9-]+$/)
    .optional()
    .describe('two office ids, comma-separated: traffic between them either way'),
  border: z
    .string()
    .regex(/^[A-Z]{2}-[A-Z]{2}$/)
    .optional()
    .describe('two country codes, e.g. KZ-KG: traffic across that border'),
  kind: EnvelopeKind.optional(),
  precedence: Precedence.optional(),
  since: z.coerce.number().int().min(0).optional().describe('accepted at or after (ms)'),
  until: z.coerce.number().int().min(0).optional().describe('accepted before (ms)'),
  case: Uuid.optional().describe('items of this case (read from the opened content, §8.1)'),
});
export type RecordFilter = z.infer<typeof RecordFilter>;

/** `GET /v1/record`'s paging (beside the `RecordFilter` fields). Numbers may be strings. */
export const RecordPaging = z.object({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

/** `GET /v1/stats`'s query: the range [since, until) and how long counts as silent. */
export const StatsQuery = z.strictObject({
  since: z.coerce.number().int().min(0).default(0),
  until: z.coerce.number().int().min(0).optional(),
  silentHours: z.coerce
    .number()
    .positive()
    .max(24 * 365)
    .default(24),
});

/** `feed:subscribe` — the entries after `after` that match, then live ones. Numbers may be strings. */
export const FeedSubscribeRequest = z.object({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  filter: RecordFilter.default({}),
  escalationsAfter: z.coerce
    .number()
    .int()
    .min(0)
    .optional()
    .describe('also replay the escalations made after this time (ms), oldest first, at most 500'),
});

/** One entry of the record as an analyst sees it: metadata, the verdict and, if it opened, the body. */
export const RecordEntry = RecordBody.omit({ prev: true, envelope: true }).extend({
  hash: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .describe('this entry in the hash chain'),
  body: Body.optional().describe('the opened payload of a compliant entry'),
  archived: z
    .strictObject({
      prekeyId: KeyId,
      envelope: z.string().max(MAX_ENVELOPE_BYTES),
    })
    .optional()
    .describe(
      'a compliant entry sealed to a hub prekey retired to the archive (§5.6): its envelope, to open where the archive key is',
    ),
});
export type RecordEntry = z.infer<typeof RecordEntry>;

/** `GET /v1/record/archive/:prekeyId` — a retired hub prekey's private half, sealed to the archive key. */
export const ArchivedPrekey = z.strictObject({
  prekeyId: KeyId,
  sealed: base64UrlOf(80).describe(
    'crypto_box_seal of the 32-byte X25519 secret key to the archive key',
  ),
});
export type ArchivedPrekey = z.infer<typeof ArchivedPrekey>;

/** `escalation` — the gateway's `alert:escalated`, plus who raised the alert. */
export const FeedEscalation = EscalationEvent.extend({
  type: z.literal('escalation'),
  from: OfficeId.describe('the office that raised the alert'),
});
export type FeedEscalation = z.infer<typeof FeedEscalation>;

export const FeedSubscribeAck = ackOf({
  entries: z.array(RecordEntry),
  next: z.int().min(0).describe('the seq to pass as `after` to continue'),
  more: z.boolean(),
  escalations: z
    .array(FeedEscalation)
    .optional()
    .describe('with `escalationsAfter`: the escalations made after it, oldest first'),
});

/** Event names of the `/analyst` namespace and their schemas, in one table. */
export const ANALYST_CLIENT_EVENTS = {
  'feed:subscribe': { request: FeedSubscribeRequest, ack: FeedSubscribeAck },
  'token:refresh': { request: RefreshRequest, ack: RefreshAck },
  'blob:get': { request: BlobGetRequest, ack: BlobGetAck },
} as const;

export const ANALYST_SERVER_EVENTS = {
  record: RecordEntry,
  escalation: FeedEscalation,
  'session:closing': ClosingEvent,
} as const;
