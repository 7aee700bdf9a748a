import { z } from 'zod';
import { EnvelopeKind, Precedence } from './envelope.js';
import { HubStreamMeta } from './hub-stream.js';
import { DeviceId, OfficeId, Timestamp, Uuid } from './primitives.js';

/** A record entry whose metadata could not be read says `unknown` where a value is missing. */
const orUnknown = <T extends z.ZodType>(schema: T) => z.union([schema, z.literal('unknown')]);

/**
 * What the hub records for each accepted envelope, as stored and hashed: routing metadata read
 * from the envelope's own header (never from the gateway's say-so), the verdict, the hash of the
 * entry before and the envelope as accepted. An analyst sees it as a `RecordEntry` (analyst.ts):
 * without `prev` and `envelope`, with its hash and opened body.
 */
export const RecordBody = z.strictObject({
  seq: z.int().min(1).describe('position in the record, from 1, without holes'),
  prev: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .describe('hash of the previous entry, or 64 zeros for the first'),
  recordedAt: Timestamp,
  id: orUnknown(Uuid).describe('the envelope id'),
  kind: orUnknown(EnvelopeKind),
  precedence: Precedence.optional(),
  sender: orUnknown(DeviceId),
  from: orUnknown(OfficeId),
  to: z.array(OfficeId),
  createdAt: Timestamp,
  acceptedAt: Timestamp,
  streamId: z.string().optional().describe("the gateway's id of this acceptance"),
  status: z.enum(['compliant', 'non-compliant']),
  code: z
    .string()
    .regex(/^[A-Z_]+$/)
    .optional()
    .describe('why a non-compliant entry was refused'),
  offendingOffice: orUnknown(OfficeId)
    .optional()
    .describe("the office to blame: only when its device's signature proves it sent this"),
  authenticated: z
    .boolean()
    .describe(
      "the sender's signature verifies: id, kind, sender, to and times are its signed word",
    ),
  claimed: HubStreamMeta.optional().describe(
    "the gateway's metadata, kept only where it differs from the envelope or could not be checked",
  ),
  envelope: z.string().describe('the envelope JSON text exactly as accepted (ciphertext only)'),
});
export type RecordBody = z.infer<typeof RecordBody>;
