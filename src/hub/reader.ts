import type { RecordEntry } from '../../protocol/v1/analyst.js';
import type { Envelope } from '../../protocol/v1/envelope.js';
import type { RecordBody } from '../../protocol/v1/record.js';
import type { DeviceKeys } from '../crypto/keys.js';
import type { Directory } from '../directory/directory.js';
import { openEnvelope, type PrekeyAccess } from '../envelope/open.js';
import { isLiaisonError } from '../errors.js';
import { matches, matchesContent, type RecordFilter } from './filter.js';
import { parseEntry } from './record.js';
import type { RecordLog } from './record-log.js';

const SCAN_CHUNK = 500;

/** Reads the record for analysts, opening each compliant envelope with the hub's key on demand. */
export class RecordReader {
  constructor(
    private readonly record: RecordLog,
    private readonly hubKeys: DeviceKeys | readonly DeviceKeys[],
    private readonly directory: () => Directory,
    /** The hub's prekeys within its window (older entries open only with the archive key). */
    private readonly prekeys?: PrekeyAccess['own'],
  ) {}

  /** Opens an entry for an analyst (content is decrypted in the hub process, never stored). */
  async view(stored: string): Promise<RecordEntry> {
    const { hash, body: entry } = parseEntry(stored);
    const { envelope, prev: _prev, ...rest } = entry;
    // A sound envelope that came with the wrong metadata is still shown (it is what was sent).
    if (entry.status !== 'compliant' && entry.code !== 'META_MISMATCH') return { ...rest, hash };
    try {
      const opened = await openEnvelope(
        JSON.parse(envelope),
        this.hubKeys,
        this.directory(),
        entry.acceptedAt,
        { acceptedAt: entry.acceptedAt },
        this.prekeys ? { own: this.prekeys } : {},
      );
      return { ...rest, hash, body: opened.body };
    } catch (error) {
      // Compliant when recorded, unreadable now: the sender revoked since (metadata only), or
      // sealed to a hub prekey retired to the archive (the envelope, for the archive key).
      const prekeyId = isLiaisonError(error, 'OWN_KEY_MISSING')
        ? this.hubPrekeyOf(envelope)
        : undefined;
      return prekeyId ? { ...rest, hash, archived: { prekeyId, envelope } } : { ...rest, hash };
    }
  }

  /** The hub prekey an envelope's hub wrap is sealed to, if any. */
  private hubPrekeyOf(envelope: string): string | undefined {
    const ring = Array.isArray(this.hubKeys) ? this.hubKeys : [this.hubKeys as DeviceKeys];
    const hubDevices = new Set(ring.map((k) => k.deviceId));
    const parsed = JSON.parse(envelope) as Envelope;
    return parsed.recipients.find((r) => hubDevices.has(r.deviceId) && r.prekeyId)?.prekeyId;
  }

  /** Entries with seq > `after` that match, at most `limit`; `next` is where to continue. */
  async search(filter: RecordFilter, after: number, limit: number) {
    const found: RecordEntry[] = [];
    let position = after;
    const end = (await this.record.head()).seq;
    while (position < end && found.length < limit) {
      const chunk = await this.record.entries(position, SCAN_CHUNK);
      if (chunk.length === 0) break;
      for (const stored of chunk) {
        const entry = parseEntry(stored).body;
        position = entry.seq;
        if (matches(entry, filter)) {
          const view = await this.view(stored);
          if (matchesContent(view, filter)) found.push(view);
        }
        if (found.length === limit) break;
      }
    }
    return { entries: found, next: position, more: position < end };
  }

  /** Every entry in a time range, parsed (for statistics). */
  async *range(
    since: number,
    until: number,
  ): AsyncGenerator<{ stored: string; entry: RecordBody }> {
    let position = 0;
    for (;;) {
      const chunk = await this.record.entries(position, SCAN_CHUNK);
      if (chunk.length === 0) return;
      for (const stored of chunk) {
        const entry = parseEntry(stored).body;
        position = entry.seq;
        if (entry.acceptedAt >= since && entry.acceptedAt < until) yield { stored, entry };
      }
    }
  }
}
