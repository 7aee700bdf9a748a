import { Envelope } from '../../protocol/v1/envelope.js';
import { type HubStreamItem, HubStreamMeta } from '../../protocol/v1/hub-stream.js';
import type { Body } from '../../protocol/v1/payload.js';
import { officeOfDevice } from '../../protocol/v1/primitives.js';
import type { RecordBody } from '../../protocol/v1/record.js';
import type { DeviceKeys } from '../crypto/keys.js';
import type { Directory } from '../directory/directory.js';
import {
  openVerifiedEnvelope,
  type PrekeyAccess,
  plausibleArrival,
  provenSender,
  verifyEnvelope,
} from '../envelope/open.js';
import { isLiaisonError } from '../errors.js';
import { chainEntry } from './record.js';
import type { HubStore } from './store.js';

/** How long an alert of each precedence may wait for its acknowledgement before escalation. */
export interface Deadlines {
  readonly FLASH: number;
  readonly IMMEDIATE: number;
}

export interface RecorderOptions {
  readonly store: HubStore;
  readonly directory: () => Directory;
  /** The hub's current key and the past ones it keeps (a backlog across a rotation opens). */
  readonly hubKeys: DeviceKeys | readonly DeviceKeys[];
  /** The hub's prekeys (what most envelopes are sealed to; PROTOCOL.md §5.6). */
  readonly prekeys?: PrekeyAccess['own'];
  readonly deadlines: Deadlines;
  /** Called with each batch of new entries as stored, in order (the analysts' live feed). */
  readonly onRecorded?: (stored: readonly string[]) => void;
}

/** What an entry says about its envelope: read from the envelope, `unknown` where unreadable. */
type Described = Pick<
  RecordBody,
  'id' | 'kind' | 'precedence' | 'sender' | 'from' | 'to' | 'createdAt'
>;

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
  const verdicts = new Map<string, Judged & { item: HubStreamItem }>();
  for (const item of items) verdicts.set(item.streamId, { item, ...(await judge(item, options)) });
  // Alert bookkeeping first: idempotent, and never lost to a crash between append and tracking.
  // It uses only what the sender signed: a Redis writer cannot start or stop an escalation.
  for (const { item, described, body } of verdicts.values()) {
    if (body)
      await trackAlerts(
        body,
        {
          id: described.id,
          from: described.from,
          to: described.to,
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
    const entries: { id: string; stored: Buffer; entry: RecordBody; body?: Body }[] = [];
    for (const [streamId, { item, described, body, verdict }] of pending) {
      const entry: RecordBody = {
        seq: head.seq + entries.length + 1,
        prev,
        recordedAt: Date.now(),
        ...described,
        acceptedAt: acceptedAtOf(item.streamId),
        streamId,
        ...verdict,
        envelope: item.envelope,
      };
      const chained = chainEntry(entry.prev, JSON.stringify(entry));
      prev = chained.hash;
      entries.push({
        id: streamId,
        stored: chained.stored,
        entry,
        ...(body ? { body } : {}),
      });
    }
    if ((await store.record.append(head.seq, prev, entries)) === 'conflict') continue;
    const { onRecorded } = options;
    onRecorded?.(entries.map(({ stored }) => stored.toString()));
    return entries.length;
  }
}

type Verdict = Pick<
  RecordBody,
  'status' | 'code' | 'offendingOffice' | 'authenticated' | 'claimed'
>;

interface Judged {
  readonly described: Described;
  readonly body?: Body;
  readonly verdict: Verdict;
}

/**
 * Verifies and opens an item's envelope as the hub, and compares the gateway's metadata with
 * the envelope's own header. Every recorded field comes from the envelope; the gateway's values
 * are kept as `claimed` only where they differ (META_MISMATCH) or the envelope's sender cannot be
 * proven. An office is blamed only for what its device's signature proves it sent.
 */
async function judge(item: HubStreamItem, options: RecorderOptions): Promise<Judged> {
  const acceptedAt = acceptedAtOf(item.streamId);
  // The gateway's metadata is checked against its schema only when it is to be kept: metadata
  // equal, field by field, to what a verified envelope says is valid by construction.
  let parsedClaim: { claim?: HubStreamMeta } | undefined;
  const claimOf = () => {
    parsedClaim ??= { claim: parseMeta(item.meta) };
    return parsedClaim.claim;
  };
  let input: unknown;
  try {
    input = JSON.parse(item.envelope);
  } catch {
    input = undefined;
  }
  const directory = options.directory();
  const refused = async (
    error: unknown,
    described: Described,
    signedBy?: string,
  ): Promise<Judged> => {
    const code = isLiaisonError(error) ? error.code : 'ENVELOPE_INVALID';
    const office = signedBy ?? (await provenSender(input, directory))?.officeId;
    // A fork is between the directories the sender's side and the hub were served: the signed
    // envelope is authentic, and no office could have caused it. Nor the hub's loss of its key.
    const blamed = code !== 'DIRECTORY_FORK' && code !== 'OWN_KEY_MISSING';
    const claim = claimOf();
    return {
      described,
      verdict: {
        status: 'non-compliant',
        code,
        ...(office && blamed ? { offendingOffice: office } : {}),
        authenticated: office !== undefined,
        ...(claim ? { claimed: claim } : {}),
      },
    };
  };
  // The acceptance time is the gateway's word (the stream id): one that cannot be true was written
  // by someone else, is flagged, and revocation is judged without it.
  const arrival = plausibleArrival(input, acceptedAt);
  const plausible = arrival.acceptedAt !== undefined;
  let verified: Awaited<ReturnType<typeof verifyEnvelope>>;
  try {
    verified = await verifyEnvelope(input, directory, acceptedAt, arrival);
  } catch (error) {
    // Only an envelope that failed verification is parsed here: a sound one was parsed by it.
    const parsed = Envelope.safeParse(input);
    return refused(error, parsed.success ? describe(parsed.data) : UNKNOWN);
  }
  const described = describe(verified.envelope);
  let body: Body;
  try {
    const own = options.prekeys ? { own: options.prekeys } : {};
    body = (await openVerifiedEnvelope(verified, options.hubKeys, own)).body;
  } catch (error) {
    return refused(error, described, verified.sender.officeId);
  }
  if (!plausible || !agrees(item.meta, described, item.envelope)) {
    // The envelope is sound; the gateway (or whoever wrote to Redis) said something else.
    const claim = claimOf();
    return {
      described,
      body,
      verdict: {
        status: 'non-compliant',
        code: 'META_MISMATCH',
        authenticated: true,
        ...(claim ? { claimed: claim } : {}),
      },
    };
  }
  return { described, body, verdict: { status: 'compliant', authenticated: true } };
}

/** An item whose envelope cannot be read is still recorded, with `unknown` where values lack. */
const UNKNOWN: Described = {
  id: 'unknown',
  kind: 'unknown',
  sender: 'unknown',
  from: 'unknown',
  to: [],
  createdAt: 0,
};

function describe({ header }: Envelope): Described {
  return {
    id: header.id,
    kind: header.kind,
    ...(header.precedence ? { precedence: header.precedence } : {}),
    sender: header.sender.deviceId,
    from: officeOfDevice(header.sender.deviceId),
    to: header.to,
    createdAt: header.createdAt,
  };
}

const META_KEYS = new Set([
  'id',
  'kind',
  'precedence',
  'sender',
  'from',
  'to',
  'createdAt',
  'size',
]);

/**
 * Whether the gateway's metadata (JSON text) says exactly what the envelope says: the same keys
 * (no others) and the same values. Such metadata is a valid HubStreamMeta, since the verified
 * envelope's values are.
 */
function agrees(metaText: string, described: Described, envelopeText: string): boolean {
  let claim: Record<string, unknown>;
  try {
    claim = JSON.parse(metaText);
  } catch {
    return false;
  }
  if (typeof claim !== 'object' || claim === null || Array.isArray(claim)) return false;
  let keys = 0;
  for (const key in claim) {
    if (!Object.hasOwn(claim, key) || !META_KEYS.has(key)) return false;
    keys++;
  }
  const to = claim.to;
  return (
    keys === (described.precedence === undefined ? 7 : 8) &&
    Array.isArray(to) &&
    claim.id === described.id &&
    claim.kind === described.kind &&
    claim.precedence === described.precedence &&
    claim.sender === described.sender &&
    claim.from === described.from &&
    claim.createdAt === described.createdAt &&
    to.length === described.to.length &&
    to.every((office, i) => office === described.to[i]) &&
    claim.size === Buffer.byteLength(envelopeText)
  );
}

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
  private wake: (() => void) | undefined;

  constructor(
    private readonly options: RecorderOptions & {
      group: string;
      consumer: string;
      refresh: () => Promise<void>;
      /** A failed attempt, with how many have failed in a row (1 for the first). */
      onError: (error: unknown, failures: number) => void;
      /** Recording works again after `failures` attempts in a row failed. */
      onResumed?: (failures: number) => void;
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
      let failures = 0;
      while (this.running) {
        try {
          await this.drain(500);
          if (failures > 0) this.options.onResumed?.(failures);
          failures = 0;
        } catch (error) {
          // A read cut by the stop itself is no failure.
          if (!this.running) break;
          this.options.onError(error, ++failures);
          await new Promise<void>((done) => {
            const timer = setTimeout(done, 1000);
            this.wake = () => {
              clearTimeout(timer);
              done();
            };
          });
        }
      }
    })();
  }

  /** Waits for the batch in hand (not for the pause after a failure). */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }
}
