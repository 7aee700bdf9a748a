import { z } from 'zod';
import { DeviceId, KeyId, Timestamp } from './primitives.js';

/**
 * The hub's signed word on how far its record went at a moment (PROTOCOL.md §10a, _Checkpoints_),
 * signed with the hub's own signing key, which never enters Redis. Whoever can rewrite Redis
 * cannot make a rewritten or shortened record match a checkpoint issued before.
 */
export const RecordCheckpointPayload = z.strictObject({
  v: z.literal(1),
  type: z.literal('liaison.record-checkpoint'),
  hub: DeviceId.describe('the hub device that signed'),
  keyId: KeyId.describe('the hub key it signed with (a certificate of role hub)'),
  seq: z.int().min(0).describe('the last entry of the record at `at`'),
  hash: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .describe('that entry’s hash (64 zeros for an empty record)'),
  at: Timestamp,
});
export type RecordCheckpointPayload = z.infer<typeof RecordCheckpointPayload>;
