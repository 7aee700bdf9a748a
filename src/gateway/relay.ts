import { ENVELOPE_VERSION, MAX_ENVELOPE_BYTES } from '../../protocol/v1/envelope.js';
import type { HubStreamMeta } from '../../protocol/v1/hub-stream.js';
import { HUB_OFFICE_ID, officeOfDevice } from '../../protocol/v1/primitives.js';
import { rejectOtherVersions } from '../crypto/signed.js';
import type { Directory } from '../directory/directory.js';
import type { Inboxes } from '../engine/inboxes.js';
import { pairRate } from '../engine/keyspace.js';
import { MAX_CLOCK_SKEW_MS } from '../envelope/open.js';
import { parseEnvelope } from '../envelope/parse.js';
import { LiaisonError } from '../errors.js';
import type { Session } from '../runtime/auth.js';
import { checkRecipients } from './recipients.js';

export interface RelayContext {
  readonly directory: Directory;
  readonly inboxes: Inboxes;
  readonly rateLimitPerMinute: number;
}

export interface SendResult {
  readonly id: string;
  readonly seq: number;
  readonly acceptedAt: number;
  readonly duplicate: boolean;
  readonly kind: string;
  /** The store's answer was lost; its acceptance record answered (AcceptResult.late). */
  readonly late?: boolean;
}

/**
 * Accepts an envelope from an authenticated device: the sender is the session's device, never
 * the payload's say-so; the offices must be linked now; the keys must be wrapped for exactly the
 * current devices and the hub; the pair must be under its rate. The signature is left to the
 * recipients and the hub, which keeps this path cheap. The engine stores it, counts the rate and
 * pushes it to every recipient device's instance in one step; the hub reads the engine's stream.
 */
export async function relayEnvelope(
  input: unknown,
  session: Session,
  context: RelayContext,
  now: number = Date.now(),
): Promise<SendResult> {
  const text = JSON.stringify(input) ?? '';
  if (Buffer.byteLength(text) > MAX_ENVELOPE_BYTES) {
    throw new LiaisonError('PAYLOAD_TOO_LARGE', undefined, { limit: MAX_ENVELOPE_BYTES });
  }
  rejectOtherVersions((input as { header?: unknown } | null)?.header, ENVELOPE_VERSION);
  const envelope = parseEnvelope(input);
  const { header } = envelope;
  const { directory, inboxes } = context;

  if (header.sender.deviceId !== session.deviceId) throw new LiaisonError('SENDER_MISMATCH');
  try {
    directory.usableKey(header.sender.deviceId, header.sender.keyId, now);
    // The creation time is the sender's word; the relay keeps it honest against its own clock, so a
    // rotated-out key cannot back-date new envelopes through it.
    if (Math.abs(header.createdAt - now) > MAX_CLOCK_SKEW_MS) {
      throw new LiaisonError(
        'ENVELOPE_INVALID',
        'createdAt is more than 5 minutes from the gateway clock',
      );
    }
    for (const office of header.to) {
      if (!directory.isLinked(session.officeId, office)) {
        throw new LiaisonError('NOT_LINKED', undefined, { from: session.officeId, to: office });
      }
    }
    checkRecipients(envelope, directory, now);
  } catch (error) {
    // A resend of an accepted envelope gets its first ack even if it would not pass today (a
    // later clock, a spent rate, a changed directory): the client lost the ack, not the envelope.
    const previous = await inboxes.acceptedBefore(header.id);
    if (previous?.sender !== session.deviceId) throw error;
    const { seq, acceptedAt } = previous;
    return { id: header.id, seq, acceptedAt, duplicate: true, kind: header.kind };
  }

  const devices = envelope.recipients
    .map((r) => r.deviceId)
    .filter((d) => officeOfDevice(d) !== HUB_OFFICE_ID);
  const meta: HubStreamMeta = {
    id: header.id,
    kind: header.kind,
    precedence: header.precedence,
    sender: header.sender.deviceId,
    from: session.officeId,
    to: header.to,
    createdAt: header.createdAt,
    size: Buffer.byteLength(text),
  };
  // Stores, counts the pair's rate and pushes to every device's instance in one engine step.
  const result = await inboxes.accept({
    id: header.id,
    sender: session.deviceId,
    envelope: text,
    devices,
    meta: JSON.stringify(meta),
    rate: {
      keys: header.to.map((office) => pairRate(session.officeId, office)),
      windowMs: 60_000,
      max: context.rateLimitPerMinute,
    },
  });
  if (result.fullInbox !== undefined) {
    // The recipient has not read for a long time: tell the sender, store nothing for anyone.
    throw new LiaisonError('INBOX_FULL', undefined, { deviceId: result.fullInbox });
  }
  if (result.rateLimited) {
    throw new LiaisonError('RATE_LIMITED', undefined, {
      limitPerMinute: context.rateLimitPerMinute,
    });
  }
  return {
    id: header.id,
    seq: result.seq,
    acceptedAt: result.acceptedAt,
    duplicate: result.duplicate,
    kind: header.kind,
    ...(result.late ? { late: true } : {}),
  };
}
