import { z } from 'zod';
import { EnvelopeKind, Precedence } from './envelope.js';
import { DeviceId, OfficeId, Timestamp, Uuid } from './primitives.js';

// Between the gateway and the hub, through Redis (not a client message): for every envelope it
// accepts, the gateway appends one item to the hub stream in the same step that stores it; hub
// replicas read the stream with a consumer group and record each item. Clients never see it.

/** The routing metadata of an accepted envelope, as the gateway stamps it (no content). */
export const HubStreamMeta = z.strictObject({
  id: Uuid.describe('the envelope id'),
  kind: EnvelopeKind,
  precedence: Precedence.optional(),
  sender: DeviceId.describe('the sending device, from its authenticated session'),
  from: OfficeId.describe("the sending device's office"),
  to: z.array(OfficeId),
  createdAt: Timestamp.describe("the sender's word, within 5 minutes of the gateway clock"),
  size: z.int().min(0).describe('bytes of the envelope JSON text'),
});
export type HubStreamMeta = z.infer<typeof HubStreamMeta>;

/** One item of the hub stream as a hub replica reads it. */
export const HubStreamItem = z.strictObject({
  streamId: z
    .string()
    .regex(/^\d+-\d+$/)
    .describe('the stream id, `<accepted at, ms>-<n>`: unique per acceptance'),
  meta: z.string().describe('HubStreamMeta as JSON text (read it with its schema)'),
  envelope: z.string().describe('the envelope JSON text exactly as accepted'),
});
export type HubStreamItem = z.infer<typeof HubStreamItem>;
