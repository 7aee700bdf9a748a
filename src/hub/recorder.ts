import { type HubStreamItem, HubStreamMeta } from '../../protocol/v1/hub-stream.js';
import type { Body } from '../../protocol/v1/payload.js';
import type { RecordBody } from '../../protocol/v1/record.js';
import type { DeviceKeys } from '../crypto/keys.js';
import type { Directory } from '../directory/directory.js';
import { openEnvelope } from '../envelope/open.js';
import { isLiaisonError } from '../errors.js';
import { entryHash, formatEntry } from './record.js';
import type { HubStore } from './store.js';

/** How long an alert of each precedence may wait for its acknowledgement before escalation. */
export interface Deadlines {
  readonly FLASH: number;
  readonly IMMEDIATE: number;
}

export interface RecorderOptions {
  readonly store: HubStore;
  readonly directory: () => Directory;
  readonly hubKeys: DeviceKeys;
  readonly deadlines: Deadlines;
  /** Called with each new entry as stored (the analysts' live feed). */
  readonly onRecorded?: (stored: string, entry: RecordBody) => void;
}

/** Metadata as read from an item: what an unreadable one lacks is recorded as `unknown`. */
type Meta = Partial<HubStreamMeta>;

/** The time the gateway accepted an item: the milliseconds part of its stream id. */
const acceptedAtOf = (streamId: string) => Number(streamId.slice(0, streamId.indexOf('-')));

/**
 * Turns accepted envelopes into record entries: verifies and opens each as the hub (one the hub
 * cannot open or verify is recorded as non-compliant, never dropped), chains the batch to the
 * entry before and appends it in one step, and keeps the alert bookkeeping escalation needs.
 * Recording is idempotent by envelope id, so a replica that takes over a dead one's work never
 * records twice. Returns how many entries it appended.
 */
export async function recordBatch(
  items: readonly HubStreamItem[],
  options: RecorderOptions,
): Promise<number> {
  const { store } = options;
  // Keyed by stream id: unique per acceptance, so an envelope id the gateway accepted again after
  // its retention is recorded again rather than hidden from CARICC.
  const verdicts = new Map<
    string,
    { item: HubStreamItem; meta: Meta; body?: Body; verdict: Verdict }
  >();
  for (const item of items) {
    const meta = parseMeta(item.meta);
    const judged = meta ? await judge(item, meta, options) : { verdict: UNREADABLE };
    verdicts.set(item.streamId, { item, meta: meta ?? {}, ...judged });
  }
  // Alert bookkeeping first: idempotent, and never lost to a crash between append and tracking.
  for (const { item, meta, body } of verdicts.values()) {
    if (body)
      await trackAlerts(
        body,
        {
          id: meta.id ?? '',
          from: meta.from ?? '',
          to: meta.to ?? [],
          acceptedAt: acceptedAtOf(item.streamId),
        },
        options,
      );
  }

  for (;;) {
    const done = await store.record.recorded([...verdicts.keys()]);
    const pending = [...verdicts].filter(([id]) => !done.has(id));
    if (pending.length === 0) return 0;
    const head = await store.record.head();
    let prev = head.hash;
    const entries: { id: string; stored: string; entry: RecordBody; body?: Body }[] = [];
    for (const [streamId, { item, meta, body, verdict }] of pending) {
      const entry: RecordBody = {
        seq: head.seq + entries.length + 1,
        prev,
        recordedAt: Date.now(),
        id: meta.id ?? 'unknown',
        kind: meta.kind ?? 'unknown',
        ...(meta.precedence ? { precedence: meta.precedence } : {}),
        sender: meta.sender ?? 'unknown',
        from: meta.from ?? 'unknown',
        to: meta.to ?? [],
        createdAt: meta.createdAt ?? 0,
        acceptedAt: acceptedAtOf(item.streamId),
        streamId,
        ...verdict,
        envelope: item.envelope,
      };
      const bodyText = JSON.stringify(entry);
      prev = entryHash(entry.prev, bodyText);
      entries.push({
        id: streamId,
        stored: formatEntry(prev, bodyText),
        entry,
        ...(body ? { body } : {}),
      });
    }
    if ((await store.record.append(head.seq, prev, entries)) === 'conflict') continue;
    for (const { stored, entry } of entries) options.onRecorded?.(stored, entry);
    return entries.length;
  }
}

type Verdict = Pick<RecordBody, 'status' | 'code' | 'offendingOffice'>;

async function judge(
  item: HubStreamItem,
  meta: Meta,
  options: RecorderOptions,
): Promise<{ body?: Body; verdict: Verdict }> {
  try {
    const opened = await openEnvelope(
      JSON.parse(item.envelope),
      options.hubKeys,
      options.directory(),
      acceptedAtOf(item.streamId),
    );
    return { body: opened.body, verdict: { status: 'compliant' } };
  } catch (error) {
    const code = isLiaisonError(error) ? error.code : 'ENVELOPE_INVALID';
    return { verdict: { status: 'non-compliant', code, offendingOffice: meta.from ?? 'unknown' } };
  }
}

/** An item whose metadata cannot be read is still recorded, as non-compliant. */
const UNREADABLE: Verdict = {
  status: 'non-compliant',
  code: 'ENVELOPE_INVALID',
  offendingOffice: 'unknown',
};

function parseMeta(text: string): HubStreamMeta | undefined {
  try {
    const meta = HubStreamMeta.safeParse(JSON.parse(text));
    return meta.success ? meta.data : undefined;
  } catch {
    return undefined;
  }
}

async function trackAlerts(
  body: Body,
  entry: Pick<RecordBody, 'id' | 'from' | 'to' | 'acceptedAt'>,
  options: RecorderOptions,
) {
  const { store, deadlines } = options;
  if (body.type === 'alert') {
    const deadline =
      body.precedence === 'FLASH' || body.precedence === 'IMMEDIATE'
        ? deadlines[body.precedence]
        : undefined;
    await store.alerts.trackAlert(
      {
        id: entry.id,
        from: entry.from,
        to: entry.to.join(','),
        precedence: body.precedence,
        acceptedAt: entry.acceptedAt,
      },
      deadline === undefined ? undefined : entry.acceptedAt + deadline,
    );
  } else if (body.type === 'alert-ack') {
    const alert = await store.alerts.alert(body.alertId);
    // Only the receiving office acknowledges an alert. An ack recorded before its alert (another
    // replica, another batch) is kept, and the alert then never goes on the escalation clock.
    if (!alert?.to || alert.to.split(',').includes(entry.from)) {
      await store.alerts.acknowledgeAlert(body.alertId, entry.from, entry.acceptedAt);
    }
  }
}

/** Reads and records batches until stopped. */
export class Recorder {
  private running = false;
  private loop: Promise<void> = Promise.resolve();

  constructor(
    private readonly options: RecorderOptions & {
      group: string;
      consumer: string;
      refresh: () => Promise<void>;
      onError: (error: unknown) => void;
      /** After how long another replica's unacknowledged items are taken over. */
      staleMs?: number;
    },
  ) {}

  /** Records what is waiting now; returns how many items it handled. */
  async drain(blockMs = 0): Promise<number> {
    const { store, group, consumer } = this.options;
    const items = await store.stream.read(
      group,
      consumer,
      100,
      blockMs,
      this.options.staleMs ?? 30_000,
    );
    if (items.length > 0) await this.options.refresh();
    await recordBatch(items, this.options);
    await store.stream.ackStreamMany(
      group,
      items.map((item) => item.streamId),
    );
    return items.length;
  }

  start(): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        try {
          await this.drain(500);
        } catch (error) {
          this.options.onError(error);
          await new Promise((done) => setTimeout(done, 1000));
        }
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}
