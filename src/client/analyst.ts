import type { Socket } from 'socket.io-client';
import type { z } from 'zod';
import {
  ArchivedPrekey,
  FeedEscalation,
  FeedSubscribeAck,
  RecordEntry,
  type RecordFilter,
} from '../../protocol/v1/analyst.js';
import { type AttachmentRef, BlobGetAck } from '../../protocol/v1/blob.js';
import { RefreshAck } from '../../protocol/v1/events.js';
import type { Body } from '../../protocol/v1/payload.js';
import { TOKEN_MAX_LIFETIME_SECONDS } from '../../protocol/v1/token.js';
import { type OpenedAttachment, openAttachment } from '../attachment/open.js';
import type { PinnedAuthority } from '../crypto/certificate.js';
import type { DeviceKeys } from '../crypto/keys.js';
import { fromBase64Url, sodium } from '../crypto/sodium.js';
import { createClientToken } from '../crypto/token.js';
import { Directory } from '../directory/directory.js';
import type { KnownHead } from '../directory/head.js';
import { openArchivedEnvelope } from '../envelope/open.js';
import { issuesOf, LiaisonError } from '../errors.js';
import { syncDirectory } from './directory.js';
import { Emitter } from './emitter.js';
import { type ClosingCode, followSession } from './session.js';
import {
  checkedEvents,
  errorFromWire,
  openSocket,
  type Problem,
  refusalOf,
  request,
  untilConnected,
} from './socket.js';

export const HUB_AUDIENCE = 'liaison-hub';

export interface AnalystOptions {
  /** The CARICC hub, e.g. `https://hub.liaison.example` (HTTP API and `/analyst` on one origin). */
  readonly url: string;
  /** The `aud` the hub expects in tokens; default `liaison-hub`. */
  readonly audience?: string;
  /** An analyst device's keys (a certificate with role `analyst`). */
  readonly keys: DeviceKeys;
  /** CARICC's authority key, pinned: the directory is checked against it. */
  readonly authority: PinnedAuthority;
  /**
   * Where authority-signed directory statements are served (`GET /v1/directory`, e.g. a
   * gateway). When set, `start()` loads and verifies the directory before connecting; `directory`
   * then names offices and their keys as the authority vouched for them.
   */
  readonly directoryUrl?: string;
  /**
   * Seconds each token lives (default 60, at most 300). The client sends a fresh one
   * (`token:refresh`) before it expires; if the hub still ends the session, the client
   * reconnects with a fresh token and resumes where it was.
   */
  readonly tokenLifetimeSeconds?: number;
  /** What the live feed carries; default everything. */
  readonly filter?: RecordFilter;
  /** Start the feed after this record position (seq); default 0, the whole record. */
  readonly after?: number;
  /**
   * Replay escalations made after this time (ms) on the first catch-up; default: all kept when
   * `after` is 0, none before now otherwise. Later catch-ups replay what was made while away.
   */
  readonly escalationsAfter?: number;
}

/** An overdue alert as the feed reports it (protocol's `FeedEscalation`). */
export type Escalation = z.infer<typeof FeedEscalation>;

export type AnalystEvents = {
  /** An entry of the record matching the filter, in order of `seq`, each once. */
  record: RecordEntry;
  /** An alert was not acknowledged in time. */
  escalation: Escalation;
  /** Something the hub sent did not match its schema, or a connection problem. */
  problem: Problem;
  connected: undefined;
  disconnected: { reason: string };
  /** The hub is closing this session and why; it reconnects in `reconnectInMs` unless final. */
  closing: { code: ClosingCode; reconnectInMs?: number };
  /** The client stopped for good: `stop()` was called, or the hub refused a reconnection. */
  closed: { error?: LiaisonError };
};

/** A page of the record: the entries after a position that match, and where to continue. */
export type RecordPage = Omit<Extract<z.infer<typeof FeedSubscribeAck>, { ok: true }>, 'ok'>;

const [subscribed] = FeedSubscribeAck.options;
const RecordPageSchema = subscribed.omit({ ok: true });
const PAGE_LIMIT = 500;
const DEFAULT_TOKEN_SECONDS = 60;
/** Escalations remembered to drop repeats across catch-ups (each alert escalates once). */
const SEEN_ESCALATIONS = 10_000;
/** Replay a little before the last escalation seen: clocks of hub replicas differ slightly. */
const ESCALATION_MARGIN_MS = 60_000;

/**
 * A CARICC analyst's view of the channel: the hub's live feed of the record (`/analyst`), with a
 * filter, caught up from a position and then live, in order and without repeats across
 * reconnections; escalations; and record search over HTTP. Every connection and request proves
 * itself with a fresh single-use analyst token; when the hub ends a session (its token expired)
 * the client reconnects with a new one and resumes after the last entry it passed on.
 *
 * @example
 * const analyst = new AnalystClient({ url: 'http://127.0.0.1:8090', keys, authority });
 * analyst.on('record', (e) => console.log(e.seq, e.from, e.to, e.kind));
 * analyst.on('escalation', (e) => console.warn('overdue', e.alertId));
 * await analyst.start();
 */
export class AnalystClient extends Emitter<AnalystEvents> {
  readonly directory: Directory;
  private socket: Socket | undefined;
  private position: number;
  /** Live entries that arrive while a catch-up is running wait here, to keep `seq` order. */
  private held: RecordEntry[] | undefined;
  private stopped = false;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  /** Escalations made after this time are replayed at the next catch-up. */
  private escalationMark: number | undefined;
  private readonly seenEscalations = new Set<string>();

  constructor(private readonly options: AnalystOptions) {
    super();
    const lifetime = options.tokenLifetimeSeconds;
    if (
      lifetime !== undefined &&
      !(Number.isInteger(lifetime) && lifetime >= 1 && lifetime <= TOKEN_MAX_LIFETIME_SECONDS)
    )
      throw new TypeError(
        `tokenLifetimeSeconds must be an integer, 1..${TOKEN_MAX_LIFETIME_SECONDS}`,
      );
    this.directory = new Directory(options.authority);
    this.position = options.after ?? 0;
    this.escalationMark = options.escalationsAfter ?? (this.position === 0 ? 0 : undefined);
  }

  /** The last record position passed on (pass it as `after` to resume later). */
  get seq(): number {
    return this.position;
  }

  /**
   * Verifies the directory (if a source is set), connects and subscribes; resolves once the
   * feed has caught up. Rejects with the hub's code when it refuses (e.g. FORBIDDEN for an office
   * device's key, VALIDATION_FAILED for a filter it cannot use).
   */
  async start(): Promise<void> {
    if (this.options.directoryUrl) await this.refreshDirectory();
    const socket = openSocket(`${this.options.url}/analyst`, () => this.token());
    this.socket = socket;
    const connected = untilConnected(socket);
    const on = checkedEvents(socket, (problem) => this.emit('problem', problem));
    on('record', RecordEntry, (entry) => (this.held ? this.held.push(entry) : this.pass(entry)));
    on('escalation', FeedEscalation, (escalation) => this.escalate(escalation));
    socket.on('disconnect', (reason) => {
      clearTimeout(this.refreshTimer);
      this.emit('disconnected', { reason });
    });
    followSession(
      socket,
      {
        closing: (code, reconnectInMs) =>
          this.emit('closing', reconnectInMs === undefined ? { code } : { code, reconnectInMs }),
        ended: (code) => this.close(new LiaisonError(code, 'the hub ended this session for good')),
      },
      () => this.stopped,
    );
    socket.on('connect_error', (error: Error & { data?: unknown }) => {
      const refusal = refusalOf(error);
      // A refusal is final (revoked, no longer an analyst); network failures are retried.
      if (refusal && !socket.active) this.close(refusal);
    });
    let first: Promise<void> | undefined;
    socket.on('connect', () => {
      this.emit('connected', undefined);
      this.scheduleRefresh(socket);
      const caughtUp = this.subscribe(socket);
      if (!first) first = caughtUp;
      else caughtUp.catch((error: Error) => this.problem(error));
    });
    await connected;
    try {
      await first;
    } catch (error) {
      this.close(error instanceof LiaisonError ? error : undefined);
      throw error;
    }
  }

  /**
   * Fetches directory changes (from `url`, default `directoryUrl`) and applies those the pinned
   * authority signed; CERT_UNTRUSTED if the source serves another authority's directory.
   */
  async refreshDirectory(url = this.options.directoryUrl): Promise<void> {
    if (!url) throw new TypeError('no directoryUrl to load the directory from');
    this.knownHead = await syncDirectory(this.directory, url, this.knownHead);
  }

  private knownHead: KnownHead | undefined;

  /** Closes the connection (no reconnect). */
  stop(): void {
    this.close();
  }

  /**
   * Searches the record over HTTP (`GET /v1/record`): entries after `after` that match, at most
   * `limit` (1–500, default 50).
   *
   * @example
   * const { entries, next, more } = await analyst.searchRecord({ border: 'KZ-KG', kind: 'alert' });
   */
  async searchRecord(
    filter: RecordFilter = {},
    page: { after?: number; limit?: number } = {},
  ): Promise<RecordPage> {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries({ ...filter, ...page }))
      if (value !== undefined) query.set(key, String(value));
    return this.getFromHub(`/v1/record?${query}`, RecordPageSchema, 'the record page');
  }

  /** GETs a hub route with a fresh token; its refusal as the error it carries; the answer checked. */
  private async getFromHub<S extends z.ZodType>(path: string, schema: S, what: string) {
    const response = await fetch(`${this.options.url}${path}`, {
      headers: { authorization: `Bearer ${await this.token()}` },
    });
    const body: unknown = await response.json();
    if (!response.ok) {
      const refused = errorFromWire((body as { error?: unknown } | null)?.error);
      throw refused ?? new LiaisonError('UNAVAILABLE', `the hub answered HTTP ${response.status}`);
    }
    const parsed = schema.safeParse(body);
    if (!parsed.success) {
      throw new LiaisonError(
        'VALIDATION_FAILED',
        `${what} does not match its schema`,
        issuesOf(parsed.error),
      );
    }
    return parsed.data as z.infer<S>;
  }

  /**
   * Fetches, verifies and decrypts an attachment named in a recorded body (its key and hash are
   * in the body the hub opened), over the feed's connection; the type is sniffed, never trusted.
   * ATTACHMENT_INVALID when it does not match the hash the record holds.
   *
   * @example const { bytes, type } = await analyst.openAttachment(entry.body.attachments[0]);
   */
  openAttachment(ref: AttachmentRef): Promise<OpenedAttachment> {
    return openAttachment(ref, async (blobId, index) => {
      if (!this.socket?.connected)
        throw new LiaisonError('UNAVAILABLE', 'not connected to the hub');
      return (await request(this.socket, 'blob:get', { blobId, index }, BlobGetAck)).chunk;
    });
  }

  /**
   * Opens an entry the hub shows as `archived` (sealed to a hub prekey past the hub's window,
   * PROTOCOL.md §5.6) with CARICC's archive key, here and not on the hub: fetches the prekey's
   * private half sealed to the archive key, unseals it, verifies and opens the envelope against
   * this client's directory (load it first: `directoryUrl` or `refreshDirectory`).
   */
  async openArchived(
    entry: RecordEntry,
    archiveKey: { encryptionPublicKey: Uint8Array; encryptionSecretKey: Uint8Array },
  ): Promise<Body> {
    if (!entry.archived) throw new TypeError('the entry is not archived');
    const { prekeyId, envelope } = entry.archived;
    const archived = await this.getFromHub(
      `/v1/record/archive/${prekeyId}`,
      ArchivedPrekey,
      'the archived prekey',
    );
    if (archived.prekeyId !== prekeyId) {
      throw new LiaisonError('VALIDATION_FAILED', 'the hub served another archived prekey');
    }
    let secretKey: Uint8Array;
    try {
      secretKey = sodium.crypto_box_seal_open(
        fromBase64Url(archived.sealed),
        archiveKey.encryptionPublicKey,
        archiveKey.encryptionSecretKey,
      );
    } catch {
      throw new LiaisonError('DECRYPT_FAILED', 'not sealed to this archive key');
    }
    try {
      const opened = await openArchivedEnvelope(
        JSON.parse(envelope),
        this.directory,
        { prekeyId, secretKey },
        entry.acceptedAt,
        { acceptedAt: entry.acceptedAt },
      );
      return opened.body;
    } finally {
      sodium.memzero(secretKey);
    }
  }

  /** Sends a fresh token at three quarters of the current one's life, so the session lives on. */
  private scheduleRefresh(socket: Socket): void {
    clearTimeout(this.refreshTimer);
    const lifetime = this.options.tokenLifetimeSeconds ?? DEFAULT_TOKEN_SECONDS;
    this.refreshTimer = setTimeout(async () => {
      try {
        await request(socket, 'token:refresh', { token: await this.token() }, RefreshAck);
      } catch (error) {
        // Not fatal: if the session ends, the next connection brings a new token.
        this.problem(error as Error);
      }
      if (socket.connected && !this.stopped) this.scheduleRefresh(socket);
    }, lifetime * 750);
  }

  /** Passes an escalation on once, however often live events and catch-ups repeat it. */
  private escalate(escalation: Escalation): void {
    this.escalationMark = Math.max(this.escalationMark ?? 0, escalation.escalatedAt);
    if (this.seenEscalations.has(escalation.alertId)) return;
    this.seenEscalations.add(escalation.alertId);
    if (this.seenEscalations.size > SEEN_ESCALATIONS)
      this.seenEscalations.delete(this.seenEscalations.values().next().value as string);
    this.emit('escalation', escalation);
  }

  private token(): Promise<string> {
    return createClientToken(this.options.keys, {
      audience: this.options.audience ?? HUB_AUDIENCE,
      lifetimeSeconds: this.options.tokenLifetimeSeconds,
    });
  }

  /**
   * Catches up from the last position, page by page, then lets live entries through; replays the
   * escalations made since the last one seen (or since this client started, on its first gap).
   */
  private async subscribe(socket: Socket): Promise<void> {
    this.held = [];
    const since = this.escalationMark;
    const subscribedAt = Date.now();
    try {
      for (let first = true; ; first = false) {
        const page = await request(
          socket,
          'feed:subscribe',
          {
            after: this.position,
            limit: PAGE_LIMIT,
            filter: this.options.filter ?? {},
            ...(first && since !== undefined
              ? { escalationsAfter: Math.max(0, since - (since === 0 ? 0 : ESCALATION_MARGIN_MS)) }
              : {}),
          },
          FeedSubscribeAck,
        );
        for (const entry of page.entries) this.pass(entry);
        for (const escalation of page.escalations ?? []) this.escalate(escalation);
        // Entries up to `next` were scanned: those that matched are in this page.
        this.position = Math.max(this.position, page.next);
        if (!page.more) break;
      }
      // From now on a gap replays what was escalated after this catch-up at the latest.
      this.escalationMark ??= subscribedAt;
    } finally {
      const held = this.held.sort((a, b) => a.seq - b.seq);
      this.held = undefined;
      for (const entry of held) this.pass(entry);
    }
  }

  private pass(entry: RecordEntry): void {
    if (entry.seq <= this.position) return;
    this.position = entry.seq;
    this.emit('record', entry);
  }

  private problem(error: Error): void {
    const code = error instanceof LiaisonError ? error.code : 'UNAVAILABLE';
    this.emit('problem', { code, message: error.message });
  }

  private close(error?: LiaisonError): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.refreshTimer);
    this.socket?.close();
    this.emit('closed', error ? { error } : {});
  }
}
