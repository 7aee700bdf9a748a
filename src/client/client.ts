import type { Socket } from 'socket.io-client';
import { z } from 'zod';
import type { AttachmentRef } from '../../protocol/v1/blob.js';
import type { Signed } from '../../protocol/v1/certificate.js';
import {
  encodeCompactEnvelope,
  isWireBytes,
  type WireEncoding,
} from '../../protocol/v1/compact.js';
import type { Envelope, EnvelopeHeader } from '../../protocol/v1/envelope.js';
import {
  CheckpointAck,
  Delivery,
  EncodingEvent,
  EscalationEvent,
  FetchAck,
  InboxAckAck,
  PrekeyPublishAck,
  PresenceEvent,
  RefreshAck,
  SendAck,
  StatusEvent,
} from '../../protocol/v1/events.js';
import type { AlertBody, Body, ChatBody, Handling } from '../../protocol/v1/payload.js';
import { PREKEY_LIFETIME_MS } from '../../protocol/v1/prekey.js';
import { HUB_OFFICE_ID, officeOfDevice } from '../../protocol/v1/primitives.js';
import { type OpenedAttachment, openAttachment, openAttachmentChunks } from '../attachment/open.js';
import type { ByteSource } from '../attachment/seal.js';
import type { PinnedAuthority } from '../crypto/certificate.js';
import { type DeviceKeys, fingerprint } from '../crypto/keys.js';
import { PrekeyStore } from '../crypto/prekey-store.js';
import { createClientToken } from '../crypto/token.js';
import { verifyCheckpoint } from '../directory/checkpoint.js';
import { Directory } from '../directory/directory.js';
import type { KnownHead } from '../directory/head.js';
import { openEnvelope, plausibleArrival } from '../envelope/open.js';
import { decodeCompact } from '../envelope/parse.js';
import { sealEnvelope } from '../envelope/seal.js';
import { type MissingRange, type SequenceState, Sequences } from '../envelope/sequence.js';
import { isLiaisonError, LiaisonError } from '../errors.js';
import { type AttachOptions, attach, type BlobLink, chunkReader } from './attachments.js';
import { syncDirectory } from './directory.js';
import { Emitter } from './emitter.js';
import {
  type Forwardable,
  ForwardPermissions,
  forwardedBody,
  type PermissionState,
} from './forwarding.js';
import { PeerPrekeys } from './prekeys.js';
import { type ClosingCode, followSession } from './session.js';
import { checkedEvents, openSocket, request, untilConnected } from './socket.js';

export interface ClientOptions {
  /** The gateway, e.g. `https://liaison.example` (HTTP API and Socket.IO on the same origin). */
  readonly url: string;
  /** The `aud` the gateway expects in tokens. */
  readonly audience: string;
  readonly keys: DeviceKeys;
  /** CARICC's authority key, pinned: every certificate and statement is checked against it. */
  readonly authority: PinnedAuthority;
  /** Where to resume the inbox (the last offset this device processed); default 0. */
  readonly lastOffset?: number;
  /** Acknowledge what was received, so the gateway removes it (default). Off: only look. */
  readonly acknowledge?: boolean;
  /**
   * The devices of linked offices this device has already told its user about (device id →
   * key id), as saved from `roster` last time. Without it, the first directory this client sees
   * is taken as known (trust on first use), and a device added while it was not running is not
   * noticed.
   */
  readonly knownDevices?: Readonly<Record<string, string>>;
  /**
   * The newest directory head this device accepted, as saved from `head` last time: a gateway
   * that serves an older or shorter directory is then refused (DIRECTORY_ROLLBACK).
   */
  readonly knownHead?: KnownHead;
  /**
   * The envelope counters this device used and saw, as saved from `sequenceState` last time: an
   * envelope replayed after a restart is then refused (ENVELOPE_REPLAYED) and a gap is reported.
   */
  readonly sequences?: SequenceState;
  /**
   * Where other processes send with this key too (the CLI's commands): takes each counter
   * exclusively among them. It runs `take` with the last counter each stream was given elsewhere
   * and saves the result before resolving, so no two envelopes share a counter (ENVELOPE_REPLAYED).
   */
  readonly reserveCounter?: (
    take: (usedElsewhere: SequenceState['sent']) => number,
  ) => Promise<number>;
  /** Past key pairs of this device it still keeps, so a backlog sealed before a rotation opens. */
  readonly pastKeys?: readonly DeviceKeys[];
  /**
   * The first inbox offset this device could not open for a reason of its own (a key it no longer
   * holds), as saved from `heldOffset`: nothing from it on is acknowledged, so the gateway keeps it.
   */
  readonly heldOffset?: number;
  /**
   * The newest record checkpoint of the hub this device kept, as saved from `checkpoint`: an
   * office's own copy of where CARICC's record stood, to hold the hub to (`liaison hub verify`).
   */
  readonly knownCheckpoint?: Signed;
  /** Envelopes created longer ago than this are refused (ENVELOPE_TOO_OLD); default 30 days. */
  readonly maxEnvelopeAgeMs?: number;
  /**
   * Also seal what this device sends (chat, alerts, acknowledgements; not read receipts) for its
   * own office's other devices, so every desk of the office sees the whole conversation; they
   * receive it as a `message` with `copy: true`. Default off; the CLI and the Console turn it on.
   */
  readonly copyToOwnOffice?: boolean;
  /**
   * This device's prekey state, as saved from `prekeyState` last time (sealed for this device:
   * PROTOCOL.md §5.6). Without it a new chain starts, and what was sealed to the prekeys of an
   * earlier state no longer opens (OWN_KEY_MISSING, kept on the gateway).
   */
  readonly prekeyState?: string;
  /**
   * Refuse to send (PREKEY_MISSING) rather than seal to the certified key of a device that has
   * published no prekey. Default off: such a send has no forward secrecy for that device and is
   * reported as `withoutForwardSecrecy`.
   */
  readonly requireForwardSecrecy?: boolean;
  /**
   * The office's handling code for chat lines and alerts that name none (PROTOCOL.md §8.1), e.g.
   * `{ code: 'H1' }`; without it they go without one (which readers show as H0).
   */
  readonly defaultHandling?: Handling;
  /** The forwarding permissions received, as saved from `forwardPermissions` last time. */
  readonly forwardPermissions?: PermissionState;
  /**
   * How envelopes travel to and from the gateway: `json` (default) or `compact` (raw bytes in
   * Socket.IO binary attachments, about a third fewer bytes: PROTOCOL.md §9.5), for weak links.
   * Compact is used once the gateway confirms it; until then, and with a gateway that does not,
   * JSON.
   */
  readonly encoding?: WireEncoding;
}

/** The gateway's default retention: nothing older is ever legitimately delivered. */
export const DEFAULT_MAX_ENVELOPE_AGE_MS = 30 * 24 * 60 * 60 * 1000;

export interface Message {
  readonly id: string;
  readonly from: string;
  readonly sender: string;
  readonly header: EnvelopeHeader;
  readonly body: Body;
  /** Sent by another device of this office (to `header.to`): a copy for this desk, not for it. */
  readonly copy: boolean;
  /**
   * Delivered to this device before at this very offset and not acknowledged: still waiting, not
   * new. Only a client with `acknowledge: false` receives these (a listing, or an app that stores
   * first and acknowledges itself, and keeps each id once).
   */
  readonly again: boolean;
}

export type ClientEvents = {
  message: Message;
  /** accepted: stored by the gateway; delivered: on a recipient device; read: shown to its operator. */
  status: { id: string; status: 'accepted' | 'delivered' | 'read'; by?: string };
  presence: { officeId: string; online: boolean };
  /** A device key of a linked office changed: compare the fingerprint out of band. */
  keyChanged: { deviceId: string; keyId: string; fingerprint: string };
  /**
   * A linked office gained a device: from now on what this device sends there is readable by it
   * too. Emitted before anything is wrapped for it; compare the fingerprint out of band.
   */
  deviceAdded: { officeId: string; deviceId: string; keyId: string; fingerprint: string };
  /** A device of a linked office no longer receives (revoked, or its certificate expired). */
  deviceRemoved: { officeId: string; deviceId: string };
  escalated: { alertId: string; precedence: string; to: string[] };
  /** An envelope that failed verification (never shown as a message), or a connection problem. */
  problem: { code: string; message: string; id?: string };
  /**
   * Envelopes of a sender that have not arrived: its counter jumped (ENVELOPES_MISSING). They may
   * still come (they are then delivered as usual) or have been dropped on the way.
   */
  missing: { sender: string; from: string; to: string[]; counters: MissingRange };
  /**
   * Sent without forward secrecy for these devices: they had published no prekey (a device never
   * connected, or offline for over a week), so their key was sealed to their certified key.
   */
  withoutForwardSecrecy: { id: string; deviceIds: string[] };
  /**
   * What the client keeps across restarts changed (sequenceState, heldOffset, head, roster,
   * prekeyState).
   */
  stateChanged: undefined;
  /** A newer checkpoint of CARICC's record was verified and kept: save `checkpoint`. */
  checkpoint: { seq: number; hash: string; at: number };
  connected: undefined;
  disconnected: { reason: string };
  /** The gateway is closing this session and why; it reconnects in `reconnectInMs` unless final. */
  closing: { code: ClosingCode; reconnectInMs?: number };
  /** The gateway ended the session for good (DEVICE_REVOKED): no reconnection. */
  ended: { code: ClosingCode };
};

/** The envelope could not be judged now (e.g. the directory is unreachable): keep it, try later. */
class NotYet extends Error {}

// Deliveries are checked as frames here and each envelope by openEnvelope, so that one bad
// envelope is reported (and acknowledged) on its own instead of making the whole page unreadable.
const Pushed = Delivery.extend({ envelope: z.unknown() });
const [fetched, refused] = FetchAck.options;
const Page = z.discriminatedUnion('ok', [fetched.extend({ items: z.array(Pushed) }), refused]);

/** A page's deliveries and lost entries, merged by offset (each list is ascending). */
function inOffsetOrder<A extends { offset: number }, B extends { offset: number }>(
  items: A[],
  lost: B[],
): (A | B)[] {
  if (lost.length === 0) return items;
  return [...items, ...lost].sort((a, b) => a.offset - b.offset);
}

/**
 * A BLO device's view of Liaison: verifies the directory against the pinned authority, connects
 * with fresh signed tokens (and refreshes them), seals and sends, receives, verifies, decrypts,
 * acknowledges and deduplicates, and catches up after every reconnect.
 *
 * @example
 * const client = new LiaisonClient({ url, audience, keys, authority });
 * client.on('message', (m) => console.log(m.from, m.body));
 * await client.start();
 * await client.sendChat('KG-AKZHOL', 'Convoy at 10:40');
 */
export class LiaisonClient extends Emitter<ClientEvents> {
  readonly directory: Directory;
  private socket: Socket | undefined;
  private lastOffset: number;
  private readonly knownKeys: Map<string, string>;
  /** Whether `knownKeys` says what the user was told (false until the first directory, on TOFU). */
  private rosterKnown: boolean;
  private knownHead: KnownHead | undefined;
  private readonly sequences: Sequences;
  private held: number | undefined;
  private kept: Signed | undefined;
  private catchingUp: Promise<void> = Promise.resolve();
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private readonly prekeys: PrekeyStore;
  private readonly peerPrekeys = new PeerPrekeys();
  private readonly permissions: ForwardPermissions;
  /** The end of the last complete catch-up: when it was asked for, and the offset it reached. */
  private drained: { at: number; offset: number } | undefined;
  /** The day number (UTC) prekeys were last published for, so a long session publishes daily. */
  private publishedDay = -1;
  /** The gateway confirmed compact envelopes on the current connection (`session:encoding`). */
  private compact = false;
  /** Transfers waiting for the next connection; stop() lets them fail. */
  private readonly waiters: (() => void)[] = [];
  /** What attachment transfers use to reach the gateway, across reconnections. */
  private readonly link: BlobLink = {
    socket: () => this.socket,
    connected: () =>
      new Promise<void>((resolve, reject) => {
        const stopped = () => reject(new LiaisonError('UNAVAILABLE', 'the client was stopped'));
        if (this.stopped || !this.socket) return stopped();
        this.waiters.push(stopped);
        this.socket.once('connect', () => {
          const at = this.waiters.indexOf(stopped);
          if (at >= 0) this.waiters.splice(at, 1);
          resolve();
        });
      }),
  };

  constructor(private readonly options: ClientOptions) {
    super();
    this.directory = new Directory(options.authority);
    this.lastOffset = options.lastOffset ?? 0;
    this.knownKeys = new Map(Object.entries(options.knownDevices ?? {}));
    this.rosterKnown = options.knownDevices !== undefined;
    this.knownHead = options.knownHead;
    this.sequences = new Sequences(options.sequences);
    this.held = options.heldOffset;
    this.kept = options.knownCheckpoint;
    this.prekeys = PrekeyStore.open(options.keys, options.prekeyState);
    this.permissions = new ForwardPermissions(options.forwardPermissions);
    // Start the chain now, so that the state saved from here on derives the prekeys published.
    this.prekeys.schedule(Date.now());
  }

  /** The forwarding permissions provider offices gave this office: save it. */
  get forwardPermissions(): PermissionState {
    return this.permissions.snapshot();
  }

  /** This device's prekey chains, sealed for it alone: save it for `prekeyState`. */
  get prekeyState(): string {
    return this.prekeys.seal();
  }

  /** The newest hub checkpoint verified and kept: save it for `knownCheckpoint`. */
  get checkpoint(): Signed | undefined {
    return this.kept;
  }

  /** The envelope counters used and seen: save it for `sequences`. */
  get sequenceState(): SequenceState {
    return this.sequences.snapshot();
  }

  /** The first offset kept unacknowledged because this device lacks its key: save it. */
  get heldOffset(): number | undefined {
    return this.held;
  }

  /** The newest directory head accepted: save it for `knownHead`. */
  get head(): KnownHead | undefined {
    return this.knownHead;
  }

  /** The devices of linked offices the user has been told about: save it for `knownDevices`. */
  get roster(): Record<string, string> {
    return Object.fromEntries(this.knownKeys);
  }

  get officeId(): string {
    return officeOfDevice(this.options.keys.deviceId);
  }

  /** How envelopes travel on the current connection (compact once the gateway confirmed it). */
  get encoding(): WireEncoding {
    return this.compact ? 'compact' : 'json';
  }

  /** Whether a session with the gateway is up now (sending needs one). */
  get isConnected(): boolean {
    return this.socket?.connected === true;
  }

  /** The inbox offset processed so far (persist it to resume without refetching). */
  get offset(): number {
    return this.lastOffset;
  }

  /** Loads the directory, connects, and catches up. Resolves once connected. */
  async start(): Promise<void> {
    await this.refreshDirectory();
    const socket = openSocket(
      this.options.url,
      () => createClientToken(this.options.keys, { audience: this.options.audience }),
      this.options.encoding,
    );
    this.socket = socket;
    const connected = untilConnected(socket);
    const on = checkedEvents(socket, (problem) => this.emit('problem', problem));
    on('envelope', Pushed, (d) =>
      this.queue(async () => {
        await this.receive(d, true);
      }),
    );
    on('envelope:status', StatusEvent, (s) =>
      this.emit('status', { id: s.id, status: 'delivered', by: s.deviceId }),
    );
    on('presence', PresenceEvent, (p) =>
      this.emit('presence', { officeId: p.officeId, online: p.online }),
    );
    on('alert:escalated', EscalationEvent, (e) =>
      this.emit('escalated', { alertId: e.alertId, precedence: e.precedence, to: e.to }),
    );
    on('session:encoding', EncodingEvent, () => {
      this.compact = this.options.encoding === 'compact';
    });
    socket.on('disconnect', (reason) => {
      this.compact = false;
      this.emit('disconnected', { reason });
    });
    followSession(
      socket,
      {
        closing: (code, reconnectInMs) =>
          this.emit('closing', reconnectInMs === undefined ? { code } : { code, reconnectInMs }),
        ended: (code) => this.emit('ended', { code }),
      },
      () => this.stopped,
    );
    socket.on('connect', () => {
      this.emit('connected', undefined);
      this.scheduleRefresh();
      this.publishedDay = -1;
      this.queue(() => this.publishPrekeys());
      this.queue(() => this.catchUp());
      this.queue(() => this.refreshCheckpoint());
    });
    await connected;
    await this.catchingUp;
  }

  /** Closes the connection (no reconnect) and zeroes the prekeys held in memory. */
  stop(): void {
    this.stopped = true;
    for (const waiter of this.waiters.splice(0)) waiter();
    clearTimeout(this.refreshTimer);
    this.socket?.close();
  }

  /**
   * Publishes this device's prekeys from today to a week ahead (PROTOCOL.md §5.6), on every
   * connection (the gateway may have lost them) and once a day while connected.
   */
  private async publishPrekeys(): Promise<void> {
    const now = Date.now();
    const day = Math.floor(now / PREKEY_LIFETIME_MS);
    if (!this.socket?.connected || day === this.publishedDay) return;
    const before = this.prekeys.held().length;
    const prekeys = this.prekeys.published(now);
    await request(this.socket, 'prekeys:publish', { prekeys }, PrekeyPublishAck);
    this.publishedDay = day;
    if (this.prekeys.held().length !== before || before === 0) this.emit('stateChanged', undefined);
  }

  /**
   * Deletes the prekeys no envelope can still need once the inbox was drained (PROTOCOL.md §5.6,
   * the retirement rule): everything accepted before `drainedAt` was fetched and is acknowledged.
   */
  private retirePrekeys(drainedAt: number): void {
    if (this.held !== undefined) return;
    const maxAge = this.options.maxEnvelopeAgeMs ?? DEFAULT_MAX_ENVELOPE_AGE_MS;
    if (this.prekeys.retire(Date.now(), drainedAt, maxAge).length > 0) {
      this.emit('stateChanged', undefined);
    }
  }

  /**
   * Asks the gateway for the hub's newest checkpoint, verifies the hub's signature and keeps it if
   * it is newer than the one kept. Two checkpoints at the same position with different hashes
   * mean the record was rewritten: CHECKPOINT_CONFLICT. An older one (a stale or withholding
   * gateway) is ignored.
   */
  async refreshCheckpoint(): Promise<void> {
    const socket = this.connected();
    const { checkpoint } = await request(socket, 'record:checkpoint', {}, CheckpointAck);
    if (!checkpoint) return;
    const served = verifyCheckpoint(checkpoint, this.directory);
    const kept = this.keptCheckpoint();
    if (kept && served.seq === kept.seq && served.hash !== kept.hash) {
      throw new LiaisonError('CHECKPOINT_CONFLICT', undefined, { seq: served.seq });
    }
    if (kept && (served.seq < kept.seq || served.at <= kept.at)) return;
    this.kept = checkpoint;
    this.emit('checkpoint', { seq: served.seq, hash: served.hash, at: served.at });
  }

  /** The kept checkpoint's content; one no longer verifying (its hub key revoked) is dropped. */
  private keptCheckpoint() {
    try {
      return this.kept ? verifyCheckpoint(this.kept, this.directory) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Fetches directory changes from the gateway and applies those the pinned authority signed. */
  async refreshDirectory(): Promise<void> {
    this.knownHead = await syncDirectory(this.directory, this.options.url, this.knownHead);
    this.noticeRosterChanges();
  }

  /** `id` names the envelope (e.g. one chosen when a line was queued): a resend is then a duplicate. */
  sendChat(officeId: string, text: string, replyTo?: string, id?: string): Promise<string> {
    const body: Body = replyTo ? { type: 'chat', text, replyTo } : { type: 'chat', text };
    return this.send(officeId, body, id);
  }

  sendAlert(officeId: string, alert: Omit<AlertBody, 'type'>): Promise<string> {
    return this.send(officeId, { type: 'alert', ...alert });
  }

  /** The receiving office acknowledges an alert (stops CARICC's escalation clock). */
  acknowledgeAlert(officeId: string, alertId: string, note?: string): Promise<string> {
    return this.send(
      officeId,
      note ? { type: 'alert-ack', alertId, note } : { type: 'alert-ack', alertId },
    );
  }

  /**
   * Forwards a received chat line or alert to another linked office, marked with where it came
   * from and keeping its provider's handling. An item marked H2 needs its provider office's
   * permission for that office, received in the conversation (`permitForward`), else
   * FORWARD_NOT_PERMITTED and nothing is sent.
   */
  async forward(item: Forwardable, officeId: string): Promise<string> {
    return this.send(officeId, this.forwardedBody(item, officeId));
  }

  /**
   * The body `forward` would send, without sending it (an app that queues what it sends, like
   * the Console, checks at once and queues this); FORWARD_NOT_PERMITTED as for `forward`.
   */
  forwardedBody(item: Forwardable, officeId: string): ChatBody | AlertBody {
    return forwardedBody(item, officeId, this.permissions);
  }

  /**
   * Permits the office that holds one of this office's items (`holder`) to forward it to `to`:
   * a chat line in their conversation, recorded by the hub like any other.
   */
  permitForward(holder: string, envelopeId: string, to: string[], text?: string): Promise<string> {
    return this.send(holder, {
      type: 'chat',
      text: text ?? `Permission to forward ${envelopeId} to ${to.join(', ')}`,
      permitsForward: { envelopeId, to },
    });
  }

  /**
   * Encrypts a file on this device (a fresh key, 256 KiB secretstream chunks, never the whole
   * file in memory) and uploads it; a cut connection is waited out and the upload resumes
   * (PROTOCOL.md §8.2). Put the reference in a chat line's or an alert's `attachments`.
   *
   * @example
   * const photo = await client.attach(createReadStream('truck.jpg'), { name: 'truck.jpg' });
   * await client.send('KG-AKZHOL', { type: 'chat', text: 'The truck', attachments: [photo] });
   */
  attach(source: ByteSource, options: AttachOptions): Promise<AttachmentRef> {
    this.connected();
    return attach(this.link, source, options);
  }

  /**
   * Fetches, verifies (every chunk, and the hash the envelope names) and decrypts an attachment
   * of a received message; its type is sniffed from the content, never taken from the sender.
   * ATTACHMENT_INVALID when it was tampered with, BLOB_NOT_FOUND when it expired.
   */
  openAttachment(ref: AttachmentRef): Promise<OpenedAttachment> {
    return openAttachment(ref, chunkReader(this.link));
  }

  /** As `openAttachment`, chunk by chunk, for files too large to hold (write them to disk). */
  attachmentChunks(ref: AttachmentRef): AsyncGenerator<Uint8Array> {
    return openAttachmentChunks(ref, chunkReader(this.link));
  }

  /** The thumbnail the sender made for an attachment, verified and decrypted; undefined if none. */
  async openThumbnail(ref: AttachmentRef): Promise<OpenedAttachment | undefined> {
    return ref.thumbnail ? openAttachment(ref.thumbnail, chunkReader(this.link)) : undefined;
  }

  /** End-to-end read receipts for messages shown to the operator. */
  markRead(officeId: string, envelopeIds: string[]): Promise<string> {
    return this.send(officeId, { type: 'receipt', status: 'read', envelopeIds });
  }

  /**
   * Seals for every current device of the office and the hub, and sends; resolves when accepted.
   * Sending again with the same `id` is answered as a duplicate, never stored twice.
   */
  async send(officeId: string, given: Body, id?: string): Promise<string> {
    const socket = this.connected();
    const body = withDefaultHandling(given, this.options.defaultHandling);
    const { keys } = this.options;
    // Taken once: a copy refused and sealed again keeps it, and so does a resend of the same id
    // (its answer was lost, or the app restarted), so readers see no gap.
    const take = (elsewhere: SequenceState['sent'] = {}) =>
      this.sequences.adopt(elsewhere).next(keys, [officeId], id);
    const counter = await (this.options.reserveCounter?.(take) ?? take());
    this.emit('stateChanged', undefined);
    for (let attempt = 0; ; attempt++) {
      const createdAt = Date.now();
      const { targets, withoutPrekey } = await this.peerPrekeys.targets(
        socket,
        this.directory,
        this.recipientsFor(officeId, body),
        createdAt,
        this.options.requireForwardSecrecy === true,
      );
      const envelope = await sealEnvelope({
        sender: keys,
        to: [officeId],
        body,
        recipients: targets,
        ...(id ? { id } : {}),
        counter,
        createdAt,
        directory: this.directory.head,
      });
      try {
        const payload = this.compact ? encodeCompactEnvelope(envelope) : envelope;
        await request(socket, 'envelope:send', payload, SendAck);
        if (id) this.sequences.settled(keys, [officeId], id);
        if (withoutPrekey.length > 0) {
          this.emit('withoutForwardSecrecy', { id: envelope.header.id, deviceIds: withoutPrekey });
        }
        this.emit('status', { id: envelope.header.id, status: 'accepted' });
        return envelope.header.id;
      } catch (error) {
        // The directory moved on (a key rotated, a device enrolled): refresh and seal again.
        if (
          attempt === 0 &&
          (isLiaisonError(error, 'RECIPIENTS_MISMATCH') ||
            isLiaisonError(error, 'HUB_NOT_RECIPIENT'))
        ) {
          await this.refreshDirectory();
          continue;
        }
        throw error;
      }
    }
  }

  /** Inbox work runs one step at a time, in order; a failed step does not stop the next. */
  /** The office's devices and the hub's, and this office's other desks when they keep copies. */
  private recipientsFor(officeId: string, body: Body) {
    const copies = this.options.copyToOwnOffice && body.type !== 'receipt';
    return this.directory
      .recipientKeys(copies ? [officeId, this.officeId] : [officeId], Date.now())
      .filter((k) => k.deviceId !== this.options.keys.deviceId);
  }

  private queue(step: () => Promise<void>): void {
    this.catchingUp = this.catchingUp.then(step).catch((error: unknown) => {
      const code = isLiaisonError(error) ? error.code : 'UNAVAILABLE';
      this.emit('problem', { code, message: (error as Error).message });
    });
  }

  private connected(): Socket {
    if (!this.socket?.connected)
      throw new LiaisonError('UNAVAILABLE', 'not connected to the gateway');
    return this.socket;
  }

  /** Fetches everything after the last processed offset, in pages, in order. */
  private async catchUp(): Promise<void> {
    const socket = this.socket;
    if (!socket) return;
    for (;;) {
      let page: Extract<z.infer<typeof Page>, { ok: true }>;
      const asked = Date.now();
      try {
        page = await request(socket, 'inbox:fetch', { after: this.lastOffset, limit: 500 }, Page);
      } catch (error) {
        // Refused (e.g. the session is closing): the next connection catches up.
        if (isLiaisonError(error) && error.code !== 'VALIDATION_FAILED') return;
        throw error;
      }
      if (page.gap)
        this.emit('problem', {
          code: 'HISTORY_EXPIRED',
          message: `offsets ${page.gap.from}–${page.gap.to} expired before delivery`,
        });
      // One acknowledgement per page, once every item of it was delivered: a round trip per
      // envelope made catching up on thousands take tens of seconds. An item that cannot be
      // judged yet stops the page: it stays on the gateway and the next catch-up retries it.
      let judged = true;
      for (const entry of inOffsetOrder(page.items, page.lost ?? [])) {
        if ('code' in entry) {
          // Gone from the gateway's store: nothing more will come of it, so it is passed.
          if (entry.offset <= this.lastOffset) continue;
          this.emit('problem', {
            code: entry.code,
            message: `envelope at offset ${entry.offset} was lost by the gateway's store`,
            id: entry.id,
          });
          this.lastOffset = entry.offset;
          this.emit('stateChanged', undefined);
          continue;
        }
        judged = await this.receive(entry, false, false);
        if (!judged) break;
      }
      const entries = page.items.length + (page.lost?.length ?? 0);
      if (entries > 0 && this.options.acknowledge !== false) {
        await this.acknowledgeUpTo(this.lastOffset);
      }
      if (!judged) return;
      if (!page.more) {
        // Everything accepted before `asked` was in these pages: once acknowledged, drained.
        this.drained = { at: asked, offset: this.lastOffset };
        if (this.options.acknowledge !== false) this.retirePrekeys(asked);
        return;
      }
    }
  }

  /**
   * Shows one delivery (or reports why it was refused), then acknowledges it unless told not to
   * (a page acknowledges once). False when it could not be judged yet: it stays unacknowledged on
   * the gateway, and the next catch-up retries it.
   */
  private async receive(
    delivery: z.infer<typeof Pushed>,
    live: boolean,
    acknowledge = true,
  ): Promise<boolean> {
    const { offset } = delivery;
    // Compact bytes (PROTOCOL.md §9.5) are read as the envelope they spell; bytes that spell none
    // are refused below like any bad envelope: reported, passed, acknowledged.
    let envelope = delivery.envelope;
    let unreadable: unknown;
    try {
      if (isWireBytes(envelope)) envelope = decodeCompact(envelope);
    } catch (error) {
      unreadable = error;
    }
    const id = (envelope as Partial<Envelope> | null)?.header?.id;
    if (offset <= this.lastOffset) return true;
    // A push past a hole means something was not pushed to us: fetch it first.
    if (live && offset > this.lastOffset + 1) {
      await this.catchUp();
      return true;
    }
    try {
      if (unreadable) throw unreadable;
      await this.deliver({ ...delivery, envelope });
    } catch (error) {
      if (error instanceof NotYet) {
        this.emit('problem', {
          code: 'UNAVAILABLE',
          message: error.message,
          ...(id ? { id } : {}),
        });
        return false;
      }
      const code = error instanceof LiaisonError ? error.code : 'INTERNAL';
      this.emit('problem', { code, message: (error as Error).message, id });
      // Our own loss (a key we no longer hold), not the sender's: keep it on the gateway.
      if (code === 'OWN_KEY_MISSING' && this.held === undefined) this.held = offset;
    }
    this.lastOffset = offset;
    this.emit('stateChanged', undefined);
    if (acknowledge && this.options.acknowledge !== false) await this.acknowledgeUpTo(offset);
    return true;
  }

  /**
   * Tells the gateway everything up to `offset` was processed (it is then removed there); never
   * past an envelope held because this device lacks its key.
   */
  async acknowledgeUpTo(offset: number): Promise<void> {
    const upTo = this.held === undefined ? offset : Math.min(offset, this.held - 1);
    if (!this.socket || upTo < 1) return;
    const acked = await request(this.socket, 'inbox:ack', { upTo }, InboxAckAck).then(
      () => true,
      () => false,
    );
    // An app that acknowledges itself (acknowledge: false) drains when it catches up to a catch-up.
    if (acked && this.drained && upTo >= this.drained.offset) this.retirePrekeys(this.drained.at);
  }

  private async deliver({ envelope, offset, acceptedAt }: z.infer<typeof Pushed>): Promise<void> {
    const ring = [this.options.keys, ...(this.options.pastKeys ?? [])];
    const arrival = plausibleArrival(envelope, acceptedAt);
    await this.knowHubPrekeys(envelope);
    const prekeys = {
      own: this.prekeys,
      publicKey: (deviceId: string, keyId: string, prekeyId: string) =>
        this.peerPrekeys.publicKey(deviceId, keyId, prekeyId),
    };
    let opened: Awaited<ReturnType<typeof openEnvelope>>;
    try {
      opened = await openEnvelope(envelope, ring, this.directory, Date.now(), arrival, prekeys);
    } catch (error) {
      // A key we do not know yet may be new: refresh once, then judge.
      if (
        error instanceof LiaisonError &&
        (error.code === 'CERT_UNKNOWN' || error.code === 'NOT_LINKED')
      ) {
        await this.refreshDirectory().catch((cause: Error) => {
          throw new NotYet(
            `kept on the gateway until the directory can be checked: ${cause.message}`,
          );
        });
        opened = await openEnvelope(envelope, ring, this.directory, Date.now(), arrival, prekeys);
      } else {
        throw error;
      }
    }
    const { header, body } = opened;
    const maxAge = this.options.maxEnvelopeAgeMs ?? DEFAULT_MAX_ENVELOPE_AGE_MS;
    if (header.createdAt < Date.now() - maxAge) {
      throw new LiaisonError('ENVELOPE_TOO_OLD', undefined, { createdAt: header.createdAt });
    }
    // Signed, so only the sender could have set it: a replay shows here, whatever its offset.
    const seen = this.sequences.observe(header, offset);
    // Fetched again where it was delivered before: not news (§7.6 rule 1). A reader that only
    // looks (it never acknowledges: a listing) still has it waiting, and lists it again.
    if (seen.kind === 'duplicate' && this.options.acknowledge !== false) return;
    // A sibling desk's copies skip its read receipts, which are never copied (§9.4): a gap in
    // them is no loss.
    const copy = officeOfDevice(header.sender.deviceId) === this.officeId;
    if (seen.kind === 'next' && seen.missing && !copy) {
      this.emit('missing', {
        sender: header.sender.deviceId,
        from: officeOfDevice(header.sender.deviceId),
        to: header.to,
        counters: seen.missing,
      });
    }
    // The sender knows directory statements we have not seen (a new device, a revocation).
    if (opened.senderAhead) await this.refreshDirectory().catch(() => undefined);
    if (body.type === 'chat' && body.permitsForward && !copy) {
      this.permissions.note(officeOfDevice(header.sender.deviceId), body.permitsForward);
    }
    if (body.type === 'receipt') {
      for (const id of body.envelopeIds)
        this.emit('status', { id, status: 'read', by: header.sender.deviceId });
    }
    const from = officeOfDevice(header.sender.deviceId);
    this.emit('message', {
      id: header.id,
      from,
      sender: header.sender.deviceId,
      header,
      body,
      copy,
      again: seen.kind === 'duplicate',
    });
  }

  /**
   * Fetches the hub prekeys an envelope names that this client has not verified yet: every
   * reader rebuilds the hub's wrap (PROTOCOL.md §7). A gateway that withholds them makes the
   * envelope refused with PREKEY_MISSING, never opened unchecked.
   */
  private async knowHubPrekeys(envelope: unknown): Promise<void> {
    const recipients = (envelope as Partial<Envelope> | null)?.recipients;
    if (!Array.isArray(recipients) || !this.socket?.connected) return;
    const wanted = recipients.flatMap((r) =>
      typeof r?.prekeyId === 'string' &&
      typeof r.deviceId === 'string' &&
      officeOfDevice(r.deviceId) === HUB_OFFICE_ID
        ? [{ deviceId: r.deviceId, prekeyId: r.prekeyId }]
        : [],
    );
    await this.peerPrekeys.ensure(this.socket, this.directory, wanted).catch(() => undefined);
  }

  /**
   * Tells the user when the devices of linked offices change: a new device, a new key on a known
   * one, a device gone. Runs on every directory refresh, so before anything is sealed for them.
   */
  private noticeRosterChanges(): void {
    const now = Date.now();
    const linked = this.directory.linkedOffices(this.officeId);
    const current = this.directory.currentKeys(linked, now);
    const announce = this.rosterKnown;
    const present = new Set<string>();
    for (const key of current) {
      present.add(key.deviceId);
      const previous = this.knownKeys.get(key.deviceId);
      this.knownKeys.set(key.deviceId, key.keyId);
      if (!announce || previous === key.keyId) continue;
      const cert = this.directory.usableKey(key.deviceId, key.keyId, now);
      const print = fingerprint(cert.signingPublicKey, cert.encryptionPublicKey);
      if (previous === undefined) {
        const officeId = officeOfDevice(key.deviceId);
        this.emit('deviceAdded', {
          officeId,
          deviceId: key.deviceId,
          keyId: key.keyId,
          fingerprint: print,
        });
      } else {
        this.emit('keyChanged', { deviceId: key.deviceId, keyId: key.keyId, fingerprint: print });
      }
    }
    for (const deviceId of [...this.knownKeys.keys()]) {
      if (present.has(deviceId)) continue;
      this.knownKeys.delete(deviceId);
      if (announce) this.emit('deviceRemoved', { officeId: officeOfDevice(deviceId), deviceId });
    }
    this.rosterKnown = true;
  }

  /** Refreshes the token a minute before the gateway would close the session. */
  private scheduleRefresh(): void {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(async () => {
      const token = await createClientToken(this.options.keys, { audience: this.options.audience });
      if (this.socket)
        await request(this.socket, 'token:refresh', { token }, RefreshAck).catch(() => undefined);
      this.queue(() => this.publishPrekeys());
      this.scheduleRefresh();
    }, 45_000);
  }
}

/** `body` with the office's default handling where it is a chat line or an alert without one. */
function withDefaultHandling(body: Body, handling: Handling | undefined): Body {
  if (!handling || (body.type !== 'chat' && body.type !== 'alert') || body.handling) return body;
  return { ...body, handling };
}
