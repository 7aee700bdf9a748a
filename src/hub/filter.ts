// One definition of the filter, the protocol's (PROTOCOL.md §10a, protocol/v1/analyst.ts).

import type { RecordEntry } from '../../protocol/v1/analyst.js';
import { RecordFilter } from '../../protocol/v1/analyst.js';
import type { RecordBody } from '../../protocol/v1/record.js';

export { RecordFilter };

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

/**
 * The part of the filter only the opened content can answer (the case, §8.1): checked after the
 * hub opened an entry that `matches`. An entry the hub cannot open matches no case.
 */
export function matchesContent(view: RecordEntry, filter: RecordFilter): boolean {
  if (filter.case === undefined) return true;
  const body = view.body as { case?: { id: string } } | undefined;
  return body?.case?.id === filter.case;
}
