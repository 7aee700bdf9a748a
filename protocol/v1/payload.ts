import { z } from 'zod';
import { AttachmentRef, MAX_ATTACHMENTS } from './blob.js';
import { Precedence } from './envelope.js';
import { Country, DeviceId, OfficeId, Timestamp, Uuid } from './primitives.js';

/** The conditions for using an item (PROTOCOL.md §8.1); H3 carries its restriction as text. */
export const Handling = z
  .strictObject({
    code: z.enum(['H0', 'H1', 'H2', 'H3']),
    restriction: z.string().min(1).max(500).optional(),
  })
  .refine((h) => (h.code === 'H3') === (h.restriction !== undefined), {
    message: 'restriction is required with H3 and only with H3',
    path: ['restriction'],
  });
export type Handling = z.infer<typeof Handling>;

/** The provider's evaluation of an alert: source reliability and information accuracy (§8.1). */
export const Evaluation = z.strictObject({
  sourceReliability: z.enum(['A', 'B', 'C', 'X']),
  informationAccuracy: z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4)]),
});
export type Evaluation = z.infer<typeof Evaluation>;

/** A case that items group under, created by either office (§8.1). */
export const CaseRef = z.strictObject({
  id: Uuid,
  title: z.string().min(1).max(200),
  status: z.enum(['open', 'closed']),
});
export type CaseRef = z.infer<typeof CaseRef>;

/** Where a forwarded item came from, with the handling its provider set. */
export const ForwardedFrom = z.strictObject({
  envelopeId: Uuid,
  office: OfficeId,
  handling: Handling,
});

/**
 * The provider office's permission, recorded in the conversation, to forward one of its items
 * (by envelope id) to other offices: what an H2 item needs before it is forwarded (§8.1).
 */
export const ForwardPermission = z.strictObject({
  envelopeId: Uuid,
  to: z.array(OfficeId).min(1).max(8),
});
export type ForwardPermission = z.infer<typeof ForwardPermission>;

/** A chat line between the offices. */
export const ChatBody = z.strictObject({
  type: z.literal('chat'),
  text: z.string().min(1).max(8000),
  replyTo: Uuid.optional(),
  handling: Handling.optional(),
  case: CaseRef.optional(),
  forwardedFrom: ForwardedFrom.optional(),
  permitsForward: ForwardPermission.optional(),
  attachments: z.array(AttachmentRef).min(1).max(MAX_ATTACHMENTS).optional(),
});
export type ChatBody = z.infer<typeof ChatBody>;

export const AlertCategory = z.enum([
  'drug-seizure',
  'wanted-person',
  'suspicious-vehicle',
  'document-fraud',
  'illegal-crossing',
  'other',
]);
export type AlertCategory = z.infer<typeof AlertCategory>;

const VehicleSubject = z.strictObject({
  kind: z.literal('vehicle'),
  plate: z.string().min(1).max(20),
  country: Country.optional(),
  description: z.string().max(500).optional(),
});

const PersonSubject = z.strictObject({
  kind: z.literal('person'),
  name: z.string().min(1).max(200),
  dateOfBirth: z.iso.date().optional(),
  nationality: z.string().length(2).optional().describe('ISO 3166-1 alpha-2'),
  description: z.string().max(500).optional(),
});

const DocumentSubject = z.strictObject({
  kind: z.literal('document'),
  documentType: z.enum(['passport', 'id-card', 'visa', 'vehicle-registration', 'cargo', 'other']),
  number: z.string().min(1).max(50),
  issuingCountry: z.string().length(2).optional().describe('ISO 3166-1 alpha-2'),
});

export const AlertSubject = z.discriminatedUnion('kind', [
  VehicleSubject,
  PersonSubject,
  DocumentSubject,
]);

/** A structured alert. Its precedence is repeated in the visible header. */
export const AlertBody = z
  .strictObject({
    type: z.literal('alert'),
    category: AlertCategory,
    precedence: Precedence,
    title: z.string().min(1).max(200),
    description: z.string().max(8000),
    location: z.strictObject({
      bcp: z.string().min(1).max(200),
      coordinates: z
        .strictObject({ lat: z.number().min(-90).max(90), lon: z.number().min(-180).max(180) })
        .optional(),
    }),
    subjects: z.array(AlertSubject).max(50),
    validFrom: Timestamp,
    validUntil: Timestamp,
    handling: Handling.optional(),
    evaluation: Evaluation.optional(),
    case: CaseRef.optional(),
    forwardedFrom: ForwardedFrom.optional(),
    attachments: z.array(AttachmentRef).min(1).max(MAX_ATTACHMENTS).optional(),
  })
  .refine((a) => a.validFrom <= a.validUntil, {
    message: 'validFrom must not be after validUntil',
    path: ['validUntil'],
  });
export type AlertBody = z.infer<typeof AlertBody>;

/** An end-to-end read receipt for envelopes the reader has shown to its operator. */
export const ReceiptBody = z.strictObject({
  type: z.literal('receipt'),
  status: z.literal('read'),
  envelopeIds: z.array(Uuid).min(1).max(100),
});

/** The receiving office acknowledges an alert (the hub's escalation clock stops). */
export const AlertAckBody = z.strictObject({
  type: z.literal('alert-ack'),
  alertId: Uuid,
  note: z.string().max(2000).optional(),
  case: CaseRef.optional(),
});

export const Body = z.discriminatedUnion('type', [ChatBody, AlertBody, ReceiptBody, AlertAckBody]);
export type Body = z.infer<typeof Body>;

/**
 * The plaintext inside an envelope. The sender and the envelope id are repeated here so that a
 * signature cannot be stripped and replaced by another office's.
 */
export const Plaintext = z.strictObject({
  v: z.literal(1),
  envelopeId: Uuid,
  sender: DeviceId,
  body: Body,
});
export type Plaintext = z.infer<typeof Plaintext>;
