import { z } from 'zod';
import { EnvelopeKind, Precedence } from '../../protocol/v1/envelope.js';
import { OfficeId } from '../../protocol/v1/primitives.js';
import type { RecordBody } from './record.js';

/** What analysts narrow the record and the live feed by. */
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
});
export type RecordFilter = z.infer<typeof RecordFilter>;

const countryOf = (office: string) => office.slice(0, 2);

export function matches(entry: RecordBody, filter: RecordFilter): boolean {
  const offices = [entry.from, ...entry.to];
  if (filter.office && !offices.includes(filter.office)) return false;
  if (filter.link) {
    const [a, b] = filter.link.split(',') as [string, string];
    const pair =
      (entry.from === a && entry.to.includes(b)) || (entry.from === b && entry.to.includes(a));
    if (!pair) return false;
  }
  if (filter.border) {
    const [x, y] = filter.border.split('-') as [string, string];
    const from = countryOf(entry.from);
    const crosses = entry.to.some((o) => {
      const to = countryOf(o);
      return (from === x && to === y) || (from === y && to === x);
    });
    if (!crosses) return false;
  }
  if (filter.kind && entry.kind !== filter.kind) return false;
  if (filter.precedence && entry.precedence !== filter.precedence) return false;
  if (filter.since !== undefined && entry.acceptedAt < filter.since) return false;
  if (filter.until !== undefined && entry.acceptedAt >= filter.until) return false;
  return true;
}
