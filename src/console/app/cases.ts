import type { Item } from './operator-state.js';
import type { CaseRef } from './sdk.js';

/**
 * The cases an operator has seen on items, each once, as its newest item states it (either office
 * may close a case: the latest title and status win). Newest first.
 */
export function casesSeen(items: Iterable<Item>): CaseRef[] {
  const latest = new Map<string, { at: number; ref: CaseRef }>();
  for (const item of items) {
    const ref = item.body.case;
    if (!ref) continue;
    const known = latest.get(ref.id);
    if (!known || known.at <= item.at) latest.set(ref.id, { at: item.at, ref });
  }
  return [...latest.values()].sort((a, b) => b.at - a.at).map((c) => c.ref);
}

/** The items that belong to a case, or all of them when no case is chosen. */
export const inCase = (items: Item[], caseId: string | undefined): Item[] =>
  caseId ? items.filter((i) => i.body.case?.id === caseId) : items;
