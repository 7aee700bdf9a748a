import type { Logger } from 'pino';
import type { z } from 'zod';
import type { WireEncoding } from '../../protocol/v1/compact.js';
import type { Envelope } from '../../protocol/v1/envelope.js';
import type { FetchAck } from '../../protocol/v1/events.js';
import type { FetchResult } from '../engine/inboxes.js';
import { outgoingEnvelope } from './encoding.js';

type Page = Omit<Extract<z.infer<typeof FetchAck>, { ok: true }>, 'ok'>;
type Lost = NonNullable<Page['lost']>[number];

/**
 * A fetched inbox page as it goes on the wire. Each stored body is parsed once and must be the
 * envelope its inbox entry names: a body that is gone, unreadable or another envelope (written
 * over in Redis) is reported as ENVELOPE_LOST at its offset, never passed on or skipped in
 * silence. The client verifies every envelope it does get (signature, recipients, counters).
 * Envelopes are spelled in the connection's encoding (compact: bytes, PROTOCOL.md §9.5).
 */
export function wirePage(page: FetchResult, log: Logger, encoding: WireEncoding = 'json'): Page {
  const lost: Lost[] = page.lost.map(({ offset, id }) => ({ offset, id, code: 'ENVELOPE_LOST' }));
  const items: Page['items'] = [];
  let swapped = false;
  for (const item of page.items) {
    let envelope: Page['items'][number]['envelope'] | undefined;
    try {
      envelope = JSON.parse(item.envelope);
    } catch {
      envelope = undefined;
    }
    const spelled =
      envelope?.header?.id === item.id ? outgoingEnvelope(envelope, encoding) : undefined;
    if (spelled !== undefined) {
      // Compact bytes stand where the schema has the JSON object (§9.5).
      items.push({
        offset: item.offset,
        acceptedAt: item.acceptedAt,
        envelope: spelled as Envelope,
      });
    } else {
      lost.push({ offset: item.offset, id: item.id, code: 'ENVELOPE_LOST' });
      swapped = true;
    }
  }
  if (lost.length === 0) return { items, more: page.more, gap: page.gap };
  if (swapped) lost.sort((a, b) => a.offset - b.offset);
  log.warn(
    { lost: lost.map(({ offset, id }) => ({ offset, id })) },
    'inbox entries lost their body',
  );
  return { items, more: page.more, gap: page.gap, lost };
}
