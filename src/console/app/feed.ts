import { io, type Socket } from 'socket.io-client';
import {
  type ConsoleKeyFile,
  createClientToken,
  type DeviceKeys,
  Emitter,
  FeedEscalation,
  FeedSubscribeAck,
  HUB_OFFICE_ID,
  LiaisonClient,
  type Office,
  pinAuthority,
  type RecordEntry,
  RecordEntrySchema,
  type RecordFilter,
} from './sdk.js';

export type FeedEscalationEvent = ReturnType<typeof FeedEscalation.parse>;

export interface Statistics {
  perLinkPerDay: { link: string; day: string; messages: number; alerts: number }[];
  alertsByCategory: Record<string, number>;
  medianAckMsByOffice: Record<string, number>;
  silentOffices: { officeId: string; lastSentAt: number | null }[];
}

export interface ChainReport {
  ok: boolean;
  entries: number;
  broken?: { position: number; seq?: number; reason: string };
}

/**
 * An analyst's connection to the CARICC hub: the `/analyst` live feed (PROTOCOL.md §10a) and the
 * record's HTTP API, each call with a fresh token for the hub's audience. Kept in one file so it
 * can give way to the SDK's AnalystClient once that exists.
 */
export class HubFeed extends Emitter<{
  record: RecordEntry;
  escalation: FeedEscalationEvent;
  connection: boolean;
}> {
  private socket: Socket | undefined;
  private readonly hub: { url: string; audience: string };

  constructor(
    file: ConsoleKeyFile,
    private readonly keys: DeviceKeys,
  ) {
    super();
    if (!file.hub) throw new TypeError('an analyst key file names its hub');
    this.hub = { url: file.hub.url.replace(/\/$/, ''), audience: file.hub.audience };
  }

  private token(): Promise<string> {
    return createClientToken(this.keys, { audience: this.hub.audience });
  }

  connect(): void {
    const socket = io(`${this.hub.url}/analyst`, {
      transports: ['websocket'],
      auth: (cb) => {
        this.token().then(
          (token) => cb({ token }),
          () => cb({}),
        );
      },
      reconnectionDelay: 500,
      reconnectionDelayMax: 15_000,
    });
    this.socket = socket;
    socket.on('connect', () => this.emit('connection', true));
    socket.on('disconnect', () => this.emit('connection', false));
    socket.on('record', (raw: unknown) => {
      const entry = RecordEntrySchema.safeParse(raw);
      if (entry.success) this.emit('record', entry.data);
    });
    socket.on('escalation', (raw: unknown) => {
      const escalation = FeedEscalation.safeParse(raw);
      if (escalation.success) this.emit('escalation', escalation.data);
    });
  }

  get connected(): boolean {
    return this.socket?.connected ?? false;
  }

  close(): void {
    this.socket?.close();
  }

  /** Sets the live filter and returns the latest `keep` entries that match it. */
  async subscribe(filter: RecordFilter, keep = 200): Promise<RecordEntry[]> {
    const socket = this.socket;
    if (!socket) return [];
    let after = 0;
    let entries: RecordEntry[] = [];
    for (let page = 0; page < 50; page++) {
      const ack = FeedSubscribeAck.parse(
        await socket.timeout(15_000).emitWithAck('feed:subscribe', { after, limit: 500, filter }),
      );
      if (!ack.ok) throw new Error(ack.error.code);
      entries = [...entries, ...ack.entries].slice(-keep);
      after = ack.next;
      if (!ack.more) break;
    }
    return entries;
  }

  private async get<T>(path: string, query: Record<string, string | number | undefined> = {}) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query))
      if (value !== undefined && value !== '') params.set(key, String(value));
    const response = await fetch(`${this.hub.url}${path}?${params}`, {
      headers: { authorization: `Bearer ${await this.token()}` },
    });
    const body = (await response.json()) as T & { error?: { code: string } };
    if (!response.ok) throw new Error(body.error?.code ?? String(response.status));
    return body as T;
  }

  /** A page of the record: entries after `after` that match. */
  search(filter: RecordFilter, after: number, limit: number) {
    return this.get<{ entries: RecordEntry[]; next: number; more: boolean }>('/v1/record', {
      ...filter,
      after,
      limit,
    });
  }

  verify() {
    return this.get<ChainReport>('/v1/record/verify');
  }

  stats(silentHours: number) {
    return this.get<Statistics>('/v1/stats', { silentHours });
  }
}

/** The offices, from the gateway's directory verified against the pinned authority by the SDK. */
export async function loadOffices(
  file: ConsoleKeyFile,
  keys: DeviceKeys,
  gatewayUrl: string,
): Promise<Office[]> {
  const client = new LiaisonClient({
    url: gatewayUrl,
    audience: file.gateway.audience,
    keys,
    authority: await pinAuthority(file.authority),
  });
  await client.refreshDirectory();
  return client.directory.allOffices().filter((o) => o.officeId !== HUB_OFFICE_ID);
}
