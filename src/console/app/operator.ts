import { openFile, Previews, uploadFiles } from './attachments.js';
import {
  type Connection,
  type Delivery,
  emptyState,
  H0,
  type Item,
  type KeyWarning,
  type OperatorState,
  type Shown,
} from './operator-state.js';
import {
  type AlertBody,
  type AttachmentRef,
  type CaseRef,
  type ConsoleKeyFile,
  type DeviceKeys,
  Emitter,
  type Handling,
  isLiaisonError,
  LiaisonClient,
  LiaisonError,
  type Message,
  type Office,
  officeOfDevice,
  pinAuthority,
} from './sdk.js';
import { loadState, saveState } from './vault.js';

export type { Connection, Delivery, Item, KeyWarning, OperatorState };

const URGENT = new Set(['FLASH', 'IMMEDIATE']);

/**
 * An operator's session: the SDK's LiaisonClient plus what a browser adds to it — history and
 * inbox position kept encrypted across reloads (so a reload neither loses nor repeats a message),
 * an outbox that holds what is typed offline and sends it on reconnect in order, read receipts,
 * alert acknowledgements, and key-change warnings remembered between visits.
 */
export class OperatorSession extends Emitter<{ change: undefined; alarm: Item }> {
  state: OperatorState = emptyState();
  connection: Connection = 'connecting';
  presence: Record<string, boolean> = {};
  offices: Office[] = [];
  problems: {
    code: string;
    id?: string;
    missing?: { sender: string; from: number; to: number };
  }[] = [];
  fatal: string | undefined;
  private client: LiaisonClient | undefined;
  private flushing = false;
  private stopped = false;
  private saving: Promise<void> = Promise.resolve();
  private pendingWrites = 0;
  private acked = 0;
  private timers: ReturnType<typeof setInterval>[] = [];
  private readonly previews = new Previews();

  constructor(
    readonly file: ConsoleKeyFile,
    private readonly keys: DeviceKeys,
    private readonly vaultKey: Uint8Array,
    private readonly url: string,
  ) {
    super();
  }

  get officeId(): string {
    return officeOfDevice(this.file.deviceId);
  }

  /** Everything shown is written to the vault (a reload or a closed tab loses nothing). */
  get saved(): boolean {
    return this.pendingWrites === 0;
  }

  get me(): Office | undefined {
    return this.client?.directory.office(this.officeId);
  }

  async start(): Promise<void> {
    this.state = { ...emptyState(), ...(await loadState(this.file.deviceId, this.vaultKey)) };
    this.acked = this.state.offset;
    const client = new LiaisonClient({
      url: this.url,
      audience: this.file.gateway.audience,
      keys: this.keys,
      authority: await pinAuthority(this.file.authority),
      lastOffset: this.state.offset,
      // The Console acknowledges itself, once a message is saved in the local history.
      acknowledge: false,
      // Every desk of an office sees what the others sent.
      copyToOwnOffice: true,
      // What this operator was told about linked offices' devices, and the newest directory head.
      ...(Object.keys(this.state.knownKeys).length > 0
        ? { knownDevices: this.state.knownKeys }
        : {}),
      ...(this.state.knownHead ? { knownHead: this.state.knownHead } : {}),
      // Envelope counters used and seen: a replay after a reload is refused, a gap reported.
      ...(this.state.sequences ? { sequences: this.state.sequences } : {}),
      ...(this.state.heldOffset !== undefined ? { heldOffset: this.state.heldOffset } : {}),
      ...(this.state.knownCheckpoint ? { knownCheckpoint: this.state.knownCheckpoint } : {}),
      ...(this.state.prekeyState ? { prekeyState: this.state.prekeyState } : {}),
      ...(this.state.forwardPermissions
        ? { forwardPermissions: this.state.forwardPermissions }
        : {}),
    });
    this.client = client;
    try {
      // Verified again against the pinned authority, exactly as statements from the gateway are.
      client.directory.applyAll(this.state.directory);
    } catch {
      this.state.directory = [];
    }
    this.listOffices();
    client.on('connected', () => {
      this.connection = 'online';
      // Saves the prekey chain before the prekeys it derives are published.
      this.save();
      void this.flush();
    });
    client.on('disconnected', () => {
      this.connection = 'offline';
      this.changed();
    });
    client.on('message', (m) => this.receive(m));
    client.on('status', (s) => {
      const stages = this.state.statuses[s.id] ?? {};
      stages[s.status] ??= Date.now();
      this.state.statuses[s.id] = stages;
      this.save();
    });
    client.on('presence', (p) => {
      this.presence[p.officeId] = p.online;
      this.changed();
    });
    client.on('keyChanged', (k) => this.warnKey('changed', k.deviceId, k.fingerprint));
    client.on('deviceAdded', (d) => this.warnKey('added', d.deviceId, d.fingerprint));
    client.on('escalated', (e) => {
      this.state.escalations[e.alertId] = Date.now();
      this.save();
    });
    client.on('problem', (p) => {
      if (p.code === 'UNAVAILABLE') return;
      this.problems.push(p.id ? { code: p.code, id: p.id } : { code: p.code });
      this.changed();
    });
    client.on('checkpoint', () => this.save());
    client.on('missing', (m) => {
      const [from, to] = m.counters;
      this.problems.push({ code: 'ENVELOPES_MISSING', missing: { sender: m.sender, from, to } });
      this.save();
    });
    this.timers.push(setInterval(() => void this.refresh(), 60_000));
    void this.connect();
  }

  /** Keeps trying to start the client: a weak link may need many attempts. */
  private async connect(): Promise<void> {
    const client = this.client as LiaisonClient;
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        await client.start();
        this.listOffices();
        this.remember();
        this.changed();
        return;
      } catch (error) {
        if (
          isLiaisonError(error, 'CERT_UNTRUSTED') ||
          isLiaisonError(error, 'STATEMENT_CONFLICT') ||
          isLiaisonError(error, 'STATEMENT_OUT_OF_ORDER') ||
          isLiaisonError(error, 'DIRECTORY_ROLLBACK') ||
          isLiaisonError(error, 'DIRECTORY_FORK') ||
          isLiaisonError(error, 'DIRECTORY_HEAD_INVALID') ||
          isLiaisonError(error, 'DIRECTORY_HEAD_EXPIRED')
        ) {
          this.fatal = 'untrusted';
          this.connection = 'offline';
          this.changed();
          return;
        }
        this.connection = 'offline';
        this.changed();
        await new Promise((done) => setTimeout(done, Math.min(30_000, 2_000 * (attempt + 1))));
      }
    }
  }

  private listOffices(): void {
    const directory = (this.client as LiaisonClient).directory;
    this.offices = directory
      .linkedOffices(this.officeId)
      .map((id) => directory.office(id))
      .filter((o): o is Office => o !== undefined);
  }

  private async refresh(): Promise<void> {
    if (this.connection !== 'online') return;
    await this.client?.refreshDirectory().catch(() => undefined);
    this.remember();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    this.client?.stop();
    this.previews.clear();
    await this.saving;
    // Drop the private keys from memory as far as JavaScript lets us.
    this.keys.signingSecretKey.fill(0);
    this.keys.encryptionSecretKey.fill(0);
    this.vaultKey.fill(0);
  }

  /** Queues a chat message or an alert; it goes out now if the gateway is reachable. */
  send(officeId: string, body: Shown): void {
    const localId = crypto.randomUUID();
    const item: Item = { id: localId, localId, dir: 'out', at: Date.now(), body };
    this.state.items[officeId] = [...(this.state.items[officeId] ?? []), item];
    this.state.outbox.push({ localId, officeId, body });
    this.save();
    void this.flush();
  }

  /**
   * A chat line goes out with the office's default handling code, in a case if one is given.
   * With files, they are encrypted and uploaded first (as for alerts, `sendAlert`).
   */
  async sendChat(
    officeId: string,
    text: string,
    inCase?: CaseRef,
    files: readonly File[] = [],
  ): Promise<void> {
    const attachments = files.length > 0 ? await uploadFiles(this.client, files) : [];
    this.send(officeId, {
      type: 'chat',
      text,
      handling: this.defaultHandling,
      ...(inCase ? { case: inCase } : {}),
      ...(attachments.length > 0 ? { attachments } : {}),
    });
  }

  /** The office's default handling code (a Console setting kept in the vault; H0 until set). */
  get defaultHandling(): Handling {
    return this.state.defaultHandling ?? H0;
  }

  setDefaultHandling(handling: Handling): void {
    this.state.defaultHandling = handling;
    this.save();
  }

  /**
   * Queues an alert. With files, each is first encrypted in this browser and uploaded (read in
   * chunks, never whole; the upload resumes after a cut link), which needs a connection: it
   * rejects (nothing is queued) if there is none or a file is refused.
   */
  async sendAlert(officeId: string, alert: AlertBody, files: readonly File[] = []): Promise<void> {
    if (files.length === 0) return this.send(officeId, alert);
    this.send(officeId, { ...alert, attachments: await uploadFiles(this.client, files) });
  }

  /**
   * Forwards a received item to another linked office, queued like anything sent, marked with
   * where it came from. Throws FORWARD_NOT_PERMITTED (nothing queued) for an H2 item its provider
   * has not permitted to go there.
   */
  forward(fromOffice: string, item: Item, to: string): void {
    if (!this.client) throw new LiaisonError('UNAVAILABLE', 'not started');
    this.send(
      to,
      this.client.forwardedBody({ id: item.id, from: fromOffice, body: item.body }, to),
    );
  }

  /** Permits `holder`, which received this office's item, to forward it to `to` (a chat line). */
  permitForward(holder: string, envelopeId: string, to: string[], text: string): void {
    this.send(holder, { type: 'chat', text, permitsForward: { envelopeId, to } });
  }

  /** The offices `officeId` is linked to, this one left out (where an item may go on to). */
  linksOf(officeId: string): string[] {
    const directory = this.client?.directory;
    return directory ? directory.linkedOffices(officeId).filter((o) => o !== this.officeId) : [];
  }

  acknowledge(officeId: string, alertId: string): void {
    this.state.acks[alertId] = { at: Date.now(), by: this.officeId };
    this.state.outbox.push({
      localId: crypto.randomUUID(),
      officeId,
      body: { type: 'alert-ack', alertId },
    });
    this.save();
    void this.flush();
  }

  /** Fetches, verifies and decrypts an attachment to save it (attachments.ts). */
  openAttachment(ref: AttachmentRef): Promise<{ file: Blob; type: string; declared?: string }> {
    return openFile(this.client, ref);
  }

  /** The sender's preview of an attachment, decrypted, as an object URL; undefined if none. */
  preview(ref: AttachmentRef): Promise<string | undefined> {
    return this.previews.url(this.client, ref);
  }

  /** The operator sees the conversation: clear its unread count and send read receipts. */
  shown(officeId: string): void {
    const ids = this.state.unread[officeId] ?? [];
    if (ids.length === 0) return;
    this.state.unread[officeId] = [];
    for (let i = 0; i < ids.length; i += 100) {
      this.state.outbox.push({
        localId: crypto.randomUUID(),
        officeId,
        body: { type: 'receipt', status: 'read', envelopeIds: ids.slice(i, i + 100) },
      });
    }
    this.save();
    void this.flush();
  }

  dismissKeyWarning(deviceId: string): void {
    this.state.keyWarnings = this.state.keyWarnings.filter((w) => w.deviceId !== deviceId);
    this.save();
  }

  dismissProblems(): void {
    this.problems = [];
    this.changed();
  }

  /** Incoming alerts this office has not acknowledged yet, most urgent first. */
  awaiting(): { officeId: string; item: Item }[] {
    const order = ['FLASH', 'IMMEDIATE', 'PRIORITY', 'ROUTINE'];
    return Object.entries(this.state.items)
      .flatMap(([officeId, items]) => items.map((item) => ({ officeId, item })))
      .filter(({ item }) => item.dir === 'in' && item.body.type === 'alert')
      .filter(({ item }) => !this.state.acks[item.id])
      .sort(
        (a, b) =>
          order.indexOf((a.item.body as AlertBody).precedence) -
            order.indexOf((b.item.body as AlertBody).precedence) || a.item.at - b.item.at,
      );
  }

  /** The furthest delivery state reported for an envelope sent. */
  delivery(id: string): Delivery {
    const stages = this.state.statuses[id] ?? {};
    return stages.read ? 'read' : stages.delivered ? 'delivered' : 'accepted';
  }

  isUrgent(item: Item): boolean {
    return item.body.type === 'alert' && URGENT.has(item.body.precedence);
  }

  private receive(m: Message): void {
    const { body, from } = m;
    if (m.copy) {
      this.receiveCopy(m);
      return;
    }
    if (body.type === 'alert-ack') {
      this.state.acks[body.alertId] = { at: m.header.createdAt, by: from };
    } else if (body.type === 'chat' || body.type === 'alert') {
      const items = this.state.items[from] ?? [];
      // Reloads and reconnects may bring a message again: the history holds it once.
      if (!items.some((i) => i.id === m.id)) {
        const item: Item = { id: m.id, dir: 'in', at: m.header.createdAt, body };
        this.state.items[from] = [...items, item];
        this.state.unread[from] = [...(this.state.unread[from] ?? []), m.id];
        if (this.isUrgent(item)) this.emit('alarm', item);
      }
    }
    this.save();
  }

  /** What another desk of this office sent: shown as sent, never unread, never an alarm. */
  private receiveCopy(m: Message): void {
    const { body } = m;
    const office = m.header.to[0] as string;
    if (body.type === 'alert-ack') {
      // Acknowledged at another desk: the alert is no longer waiting here either.
      this.state.acks[body.alertId] = { at: m.header.createdAt, by: this.officeId };
    } else if (body.type === 'chat' || body.type === 'alert') {
      const items = this.state.items[office] ?? [];
      if (!items.some((i) => i.id === m.id)) {
        this.state.items[office] = [
          ...items,
          { id: m.id, dir: 'out', at: m.header.createdAt, body },
        ];
      }
    }
    this.save();
  }

  /** A changed key or a new device of a linked office, as the SDK reports it before sealing. */
  private warnKey(kind: KeyWarning['kind'], deviceId: string, print: string): void {
    this.state.keyWarnings = [
      ...this.state.keyWarnings.filter((w) => w.deviceId !== deviceId),
      { kind, deviceId, fingerprint: print },
    ];
    this.remember();
  }

  /** Keeps what the SDK knows of linked devices and the directory head, across visits. */
  private remember(): void {
    const client = this.client;
    if (!client) return;
    this.state.knownKeys = client.roster;
    const head = client.head;
    if (head) this.state.knownHead = head;
    this.save();
  }

  /** Sends the outbox in order, one at a time; stops at the first failure to reach the gateway. */
  private async flush(): Promise<void> {
    const client = this.client;
    if (this.flushing || !client) return;
    this.flushing = true;
    try {
      while (this.state.outbox.length > 0 && this.connection === 'online' && !this.stopped) {
        const next = this.state.outbox[0] as OperatorState['outbox'][number];
        let id: string | undefined;
        let failed: string | undefined;
        try {
          id = await client.send(next.officeId, next.body);
        } catch (error) {
          // Not connected, or no answer in time: keep it and try again on reconnect.
          if (!isLiaisonError(error) || error.code === 'UNAVAILABLE') break;
          failed = error.code;
        }
        const item = this.state.items[next.officeId]?.find((i) => i.localId === next.localId);
        if (item && id) {
          item.id = id;
          const stages = this.state.statuses[id] ?? {};
          stages.accepted ??= Date.now();
          this.state.statuses[id] = stages;
        }
        if (item && failed) item.failed = failed;
        this.state.outbox.shift();
        this.save();
      }
    } finally {
      this.flushing = false;
    }
  }

  private changed(): void {
    this.emit('change', undefined);
  }

  /** Saves the state (encrypted), then tells the gateway what is safely kept. */
  private save(): void {
    this.changed();
    if (this.stopped) return;
    const offset = this.client?.offset ?? this.state.offset;
    this.state.offset = offset;
    if (this.client) {
      this.state.sequences = this.client.sequenceState;
      const held = this.client.heldOffset;
      if (held !== undefined) this.state.heldOffset = held;
      const checkpoint = this.client.checkpoint;
      if (checkpoint) this.state.knownCheckpoint = checkpoint;
      this.state.prekeyState = this.client.prekeyState;
      this.state.forwardPermissions = this.client.forwardPermissions;
    }
    if (this.client && this.client.directory.version > this.state.directory.length)
      this.state.directory = [...this.client.directory.statements()];
    const snapshot = structuredClone(this.state);
    this.pendingWrites++;
    this.saving = this.saving
      .then(() => saveState(this.file.deviceId, this.vaultKey, snapshot))
      .finally(() => {
        this.pendingWrites--;
        if (this.pendingWrites === 0) this.changed();
      })
      .then(async () => {
        if (offset > this.acked && this.client && !this.stopped) {
          this.acked = offset;
          await this.client.acknowledgeUpTo(offset);
        }
      })
      .catch(() => undefined);
  }
}
