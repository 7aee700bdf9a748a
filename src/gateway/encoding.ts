import {
  encodeCompactEnvelope,
  isWireBytes,
  type WireEncoding,
} from '../../protocol/v1/compact.js';
import { MAX_ENVELOPE_BYTES } from '../../protocol/v1/envelope.js';
import { decodeCompact, isEnvelope } from '../envelope/parse.js';
import { LiaisonError } from '../errors.js';

// A connection's envelope encoding (PROTOCOL.md §9.5) ends here: what comes in is turned into the
// one canonical envelope object before anything else sees it, and what goes out is spelled for
// the connection last. Store, hub stream, fan-out and signatures never see compact bytes.

/**
 * An `envelope:send` payload as the canonical object: a JSON envelope as it came, compact bytes
 * decoded (only on a connection that asked for compact). What it gives is checked by the relay.
 */
export function incomingEnvelope(input: unknown, encoding: WireEncoding): unknown {
  if (!isWireBytes(input)) return input;
  if (encoding !== 'compact')
    throw new LiaisonError(
      'VALIDATION_FAILED',
      "a compact envelope on a JSON connection: connect with auth.encoding 'compact'",
    );
  if (input.byteLength > MAX_ENVELOPE_BYTES)
    throw new LiaisonError('PAYLOAD_TOO_LARGE', undefined, { limit: MAX_ENVELOPE_BYTES });
  return decodeCompact(input);
}

/**
 * A stored envelope as this connection reads it: the object itself (JSON), or its compact bytes;
 * undefined when what the store held is no envelope (a fetch then reports it ENVELOPE_LOST).
 */
export function outgoingEnvelope(envelope: unknown, encoding: WireEncoding): unknown {
  if (encoding === 'json') return envelope;
  return isEnvelope(envelope) ? encodeCompactEnvelope(envelope) : undefined;
}
