import { parseEntry } from './record.js';
import type { RecordLog } from './record-log.js';

/**
 * Drops record entries accepted before `cutoff`, oldest first, a batch at a time. The base moves
 * to the last dropped entry, so what is kept still verifies from there. Safe to run on every
 * replica at once: a trim only applies if the record still starts where it was read.
 */
export async function trimRecord(record: RecordLog, cutoff: number): Promise<number> {
  let dropped = 0;
  for (;;) {
    const base = await record.base();
    const head = await record.entries(base.seq, 100);
    const old = head
      .map(parseEntry)
      .filter((_, i, all) => all.slice(0, i + 1).every((e) => e.body.acceptedAt < cutoff));
    const last = old.at(-1);
    const first = old[0];
    if (!last || !first) return dropped;
    const streamIds = old.flatMap((e) => (e.body.streamId ? [e.body.streamId] : []));
    const newBase = { seq: last.body.seq, hash: last.hash };
    if (!(await record.trim(old.length, first.hash, newBase, streamIds))) continue;
    dropped += old.length;
  }
}
