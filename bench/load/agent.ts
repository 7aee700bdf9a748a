// A load agent: one process holding many real devices as Socket.IO clients. Each device has its
// own keys and signed token and sends real sealed envelopes; the benchmark drives agents over IPC
// (bench/load/messages.ts). Against the plain relay the same code runs with no token.
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { io, type Socket } from 'socket.io-client';
import type { Envelope } from '../../protocol/v1/envelope.js';
import { officeOfDevice } from '../../protocol/v1/primitives.js';
import { createClientToken } from '../../src/crypto/token.js';
import { sealEnvelope } from '../../src/envelope/seal.js';
import { AUDIENCE, WorldKeys } from '../world.js';
import type { AgentReply, AgentRequest, Millis, Target } from './messages.js';

const now = (): Millis => performance.timeOrigin + performance.now();
const CHAT = 'x'.repeat(1024);

let world: WorldKeys | undefined;
const sockets = new Map<string, Socket>();
const sealed = new Map<string, Envelope[]>();
let received: [string, string, Millis][] = [];
/** Last offset each device acknowledged, so a reconnect fetches only what is new. */
const acked = new Map<string, number>();

const count = (tally: Record<string, number>, code: string) => {
  tally[code] = (tally[code] ?? 0) + 1;
};

async function open(target: Target, url: string, deviceId: string): Promise<Socket> {
  const auth =
    target === 'liaison'
      ? {
          token: await createClientToken(await keys().device(deviceId), {
            audience: AUDIENCE,
            lifetimeSeconds: 300,
          }),
        }
      : { room: officeOfDevice(deviceId) };
  const socket = io(url, {
    auth,
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    timeout: 60_000,
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (error: Error & { data?: { code: string } }) => {
      socket.close();
      reject(new Error(error.data?.code ?? error.message));
    });
  });
}

function keys(): WorldKeys {
  if (!world) throw new Error('agent not initialised');
  return world;
}

/** Runs `task` over `items` with at most `limit` at once. */
async function pool<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

type Delivery = { offset: number; envelope: Envelope };
type InboxPage =
  | { ok: true; items: Delivery[]; more: boolean }
  | { ok: false; error: { code: string } };

/** Offsets each device has recorded: a push and a catch-up page may carry the same item. */
const seen = new Map<string, Set<number>>();
/** Times the server cut a receiving socket (a slow consumer, say); each resumed from its inbox. */
let cuts = 0;
/** Bumped by each 'disconnect' request, so a resume still under way then gives up. */
let generation = 0;

/** Reads a device's inbox after `after` to its end; returns the last offset read and the pages. */
async function fetchInbox(socket: Socket, after: number, onItem: (item: Delivery) => void) {
  for (let pages = 1; ; pages++) {
    const page = (await socket
      .timeout(60_000)
      .emitWithAck('inbox:fetch', { after, limit: 100 })) as InboxPage;
    if (!page.ok) throw new Error(page.error.code);
    for (const item of page.items) onItem(item);
    after = page.items.at(-1)?.offset ?? after;
    if (!page.more) return { after, pages };
  }
}

/**
 * Records pushed envelopes and acknowledges them in batches, as the SDK does. A socket the server
 * cuts (Liaison only) reconnects and reads what it missed from its inbox, acknowledging nothing
 * until that catch-up is done, so an envelope is counted lost only if the relay lost it.
 */
function receiveOn(socket: Socket, deviceId: string, target: Target, url: string) {
  const offsets = seen.get(deviceId) ?? new Set<number>();
  seen.set(deviceId, offsets);
  let pending: number | undefined;
  let scheduled = false;
  let catchingUp = false;
  const record = ({ offset, envelope }: Delivery) => {
    if (offsets.has(offset)) return;
    offsets.add(offset);
    received.push([envelope.header.id, deviceId, now()]);
  };
  const flush = () => {
    scheduled = false;
    if (pending === undefined || catchingUp) return;
    const upTo = pending;
    pending = undefined;
    socket.emit('inbox:ack', { upTo }, () => acked.set(deviceId, upTo));
  };
  socket.on('envelope', (delivery: Delivery) => {
    record(delivery);
    pending = Math.max(pending ?? 0, delivery.offset);
    if (!scheduled) {
      scheduled = true;
      setTimeout(flush, 50);
    }
  });
  socket.once('disconnect', (reason) => {
    // Our own disconnect, or the plain relay (no inbox to resume from): nothing to do.
    if (reason === 'io client disconnect' || target !== 'liaison') return;
    cuts++;
    void resume(deviceId, target, url);
  });
  return {
    /** Reads what arrived while this socket was away, then lets acknowledgements go. */
    async catchUp() {
      catchingUp = true;
      try {
        const { after } = await fetchInbox(socket, acked.get(deviceId) ?? 0, record);
        pending = Math.max(pending ?? 0, after);
      } finally {
        catchingUp = false;
        flush();
      }
    },
  };
}

async function resume(deviceId: string, target: Target, url: string) {
  const started = generation;
  for (let attempt = 0; attempt < 20 && generation === started; attempt++) {
    try {
      const socket = await open(target, url, deviceId);
      if (generation !== started) return void socket.disconnect();
      sockets.set(deviceId, socket);
      await receiveOn(socket, deviceId, target, url).catchUp();
      return;
    } catch {
      await sleep(500);
    }
  }
}

async function connect(request: Extract<AgentRequest, { type: 'connect' }>): Promise<AgentReply> {
  const started = now();
  const refused: Record<string, number> = {};
  let connected = 0;
  await pool(request.devices, request.concurrency, async (deviceId) => {
    try {
      const socket = await open(request.target, request.url, deviceId);
      sockets.set(deviceId, socket);
      if (request.receive) receiveOn(socket, deviceId, request.target, request.url);
      connected++;
    } catch (error) {
      count(refused, (error as Error).message);
    }
  });
  return { type: 'connected', connected, refused, ms: now() - started };
}

async function seal(request: Extract<AgentRequest, { type: 'seal' }>): Promise<AgentReply> {
  const started = now();
  let total = 0;
  for (const { sender, to, count: n } of request.plan) {
    const device = await keys().device(sender);
    const recipients = await keys().recipients(to);
    const list = sealed.get(sender) ?? [];
    for (let i = 0; i < n; i++) {
      list.push(
        await sealEnvelope({
          sender: device,
          to: [to],
          body: { type: 'chat', text: CHAT },
          recipients,
          counter: list.length + 1,
          directory: keys().head,
        }),
      );
    }
    sealed.set(sender, list);
    total += n;
  }
  return { type: 'sealed', count: total, ms: now() - started };
}

type SendAck = { ok: true; duplicate?: boolean } | { ok: false; error: { code: string } };

async function send(request: Extract<AgentRequest, { type: 'send' }>): Promise<AgentReply> {
  const refused: Record<string, number> = {};
  const sentAt: [string, Millis][] = [];
  let duplicates = 0;
  let lastAckAt = 0;
  const emit = async (socket: Socket, envelope: Envelope) => {
    const at = now();
    try {
      const ack = (await socket.timeout(60_000).emitWithAck('envelope:send', envelope)) as SendAck;
      lastAckAt = now();
      if (!ack.ok) return count(refused, ack.error.code);
      if (ack.duplicate) duplicates++;
      sentAt.push([envelope.header.id, at]);
    } catch {
      count(refused, 'NO_ACK');
    }
  };
  // Copies: the same sealed envelopes go to the baseline and then to Liaison.
  const queues = [...sealed.entries()].map(([sender, list]) => {
    const socket = sockets.get(sender);
    if (!socket) throw new Error(`${sender} is not connected`);
    return { socket, list: [...list] };
  });
  const firstAt = now();
  if (request.mode === 'window') {
    // As fast as acks allow: each sender keeps `window` envelopes in flight.
    await Promise.all(
      queues.flatMap(({ socket, list }) =>
        Array.from({ length: request.window }, async () => {
          for (let e = list.shift(); e; e = list.shift()) await emit(socket, e);
        }),
      ),
    );
  } else {
    // A fixed rate, open loop: envelope k leaves at firstAt + k / rate whatever the acks do.
    const order: { socket: Socket; envelope: Envelope }[] = [];
    for (let i = 0; queues.some((q) => q.list.length > 0); i++) {
      const q = queues[i % queues.length];
      const envelope = q?.list.shift();
      if (q && envelope) order.push({ socket: q.socket, envelope });
    }
    const inFlight: Promise<void>[] = [];
    const interval = 1000 / request.perSecond;
    for (let k = 0; k < order.length; ) {
      while (k < order.length && firstAt + k * interval <= now()) {
        const { socket, envelope } = order[k++] as (typeof order)[number];
        inFlight.push(emit(socket, envelope));
      }
      // A 1 ms tick: spinning would take the CPU the servers need on a 2-core machine.
      await sleep(1);
    }
    await Promise.all(inFlight);
  }
  return {
    type: 'sent',
    accepted: sentAt.length,
    duplicates,
    refused,
    sentAt,
    firstAt,
    lastAckAt,
  };
}

async function catchUp(request: Extract<AgentRequest, { type: 'catch-up' }>): Promise<AgentReply> {
  const ids: Record<string, string[]> = {};
  const refused: Record<string, number> = {};
  let fetches = 0;
  let doneAt = now();
  // The storm: every device reconnects at once, fetches what is queued, acknowledges it.
  await Promise.all(
    request.devices.map(async (deviceId) => {
      try {
        const socket = await open(request.target, request.url, deviceId);
        sockets.set(deviceId, socket);
        const got: string[] = [];
        const { after, pages } = await fetchInbox(socket, acked.get(deviceId) ?? 0, (item) => {
          got.push(item.envelope.header.id);
        });
        fetches += pages;
        await socket.timeout(60_000).emitWithAck('inbox:ack', { upTo: after });
        acked.set(deviceId, after);
        ids[deviceId] = got;
        doneAt = Math.max(doneAt, now());
      } catch (error) {
        count(refused, (error as Error).message);
      }
    }),
  );
  return { type: 'caught-up', ids, refused, doneAt, fetches };
}

async function handle(request: AgentRequest): Promise<AgentReply> {
  switch (request.type) {
    case 'init':
      world = new WorldKeys(JSON.parse(await readFile(request.worldFile, 'utf8')));
      return { type: 'ready' };
    case 'connect':
      return connect(request);
    case 'seal':
      return seal(request);
    case 'send':
      return send(request);
    case 'forget':
      sealed.clear();
      return { type: 'forgotten' };
    case 'received': {
      const items = received;
      received = [];
      return { type: 'received', items, cuts };
    }
    case 'disconnect': {
      const n = sockets.size;
      generation++;
      for (const socket of sockets.values()) socket.disconnect();
      sockets.clear();
      seen.clear();
      return { type: 'disconnected', count: n };
    }
    case 'catch-up':
      return catchUp(request);
    case 'memory':
      return { type: 'memory', rss: process.memoryUsage().rss };
  }
}

process.on('message', (message: { id: number; request: AgentRequest }) => {
  handle(message.request).then(
    (reply) => process.send?.({ id: message.id, reply }),
    (error: Error) =>
      process.send?.({ id: message.id, reply: { type: 'error', message: error.message } }),
  );
});
process.once('SIGTERM', () => process.exit(0));
// The benchmark that forked this agent is gone (even SIGKILLed): so is the agent.
process.once('disconnect', () => process.exit(0));
