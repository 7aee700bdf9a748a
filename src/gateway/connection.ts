import type { Logger } from 'pino';
import type { Socket } from 'socket.io';
import type { z } from 'zod';
import { Signed } from '../../protocol/v1/certificate.js';
import {
  CheckpointRequest,
  type ClosingEvent,
  FetchRequest,
  InboxAckRequest,
  MAX_SESSIONS_PER_DEVICE,
  PrekeyGetRequest,
  PrekeyPublishRequest,
  RefreshRequest,
} from '../../protocol/v1/events.js';
import { officeOfDevice } from '../../protocol/v1/primitives.js';
import type { Engine } from '../engine/engine.js';
import { channels } from '../engine/keyspace.js';
import { LiaisonError } from '../errors.js';
import { authenticate, handshakeEncoding, type Session } from '../runtime/auth.js';
import type { DirectorySync } from '../runtime/directory-sync.js';
import { type Ack, answer, checkDepth, parse } from '../runtime/wire.js';
import { serveBlobs } from './blobs.js';
import { deviceEventOf, encodedDelivery, officeEventOf } from './channel-messages.js';
import { incomingEnvelope, outgoingEnvelope } from './encoding.js';
import { wirePage } from './inbox-page.js';
import type { Metrics } from './metrics.js';
import { corkForThisTick, cutSlowConsumer, outboundBytes, writePacket } from './outbound.js';
import { publishPrekeys, servePrekeys } from './prekeys.js';
import { relayEnvelope } from './relay.js';

/** How long a connection counts as present without a heartbeat (survives a killed instance). */
const PRESENCE_TTL_MS = 30_000;
const HEARTBEAT_MS = 10_000;
/** Envelope ids one "delivered" message between instances carries at most. */
const STATUS_BATCH = 500;
/** Events one socket may send per second before it is told to slow down. */
const EVENTS_PER_SECOND = 2_000;

type Closing = z.infer<typeof ClosingEvent>;

/** What every connection of one gateway instance shares. */
export interface GatewayContext {
  readonly engine: Engine;
  readonly sync: DirectorySync;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly audience: string;
  readonly rateLimitPerMinute: number;
  /** Bytes of attachment blobs one office may have stored at a time. */
  readonly attachmentQuotaBytes: number;
  /** Bytes a socket may have waiting to be written before it is cut as a slow consumer. */
  readonly maxOutboundBytes: number;
  /** Local sockets by device, oldest first (at most MAX_SESSIONS_PER_DEVICE each). */
  readonly sockets: Map<string, Set<Socket>>;
  /** Requests being served, so shutdown can wait for them. */
  readonly inFlight: { count: number; drained: (() => void)[] };
}

/** Tells the client why, then closes the socket. */
export function closeSession(socket: Socket, code: Closing['code'], reconnectAfterMs?: number) {
  const event: Closing = reconnectAfterMs === undefined ? { code } : { code, reconnectAfterMs };
  socket.emit('session:closing', event);
  socket.disconnect(true);
}

/** Wires one authenticated socket: pushes, presence, the four client events, expiry, cleanup. */
export async function attachConnection(socket: Socket, session: Session, context: GatewayContext) {
  const { sync, metrics, logger } = context;
  const { inboxes, presence, pubsub } = context.engine;
  // The child logger is made when first needed: most connections log only their coming and
  // going, and ten thousand idle ones would each hold one (memory per idle connection, issue 16).
  const ids = { device: session.deviceId, connection: socket.id };
  let child: Logger | undefined;
  const log = () => {
    child ??= logger.child(ids);
    return child;
  };
  const deviceChannel = channels.device(session.deviceId);
  const officeChannel = channels.office(session.officeId);
  // Asked for at the handshake and confirmed before anything else is sent (PROTOCOL.md §9.5).
  const encoding = handshakeEncoding(socket.handshake.auth);
  // The token was checked and is not needed again (token:refresh brings its own): not kept for
  // the connection's life, which is memory per idle connection and a bearer secret in the heap.
  socket.handshake.auth = {};
  if (encoding === 'compact') socket.emit('session:encoding', { encoding });

  // Sessions of one device live side by side (a chat beside one-shot commands, a desk beside a
  // second window): each gets every push, and acknowledging an offset twice removes nothing the
  // second time (PROTOCOL.md §9.1). The cap keeps a leaked client from piling them up.
  const mine = context.sockets.get(session.deviceId) ?? new Set<Socket>();
  context.sockets.set(session.deviceId, mine);
  mine.add(socket);
  if (mine.size > MAX_SESSIONS_PER_DEVICE) {
    const [oldest] = mine;
    if (oldest) {
      mine.delete(oldest);
      log().info({ replaced: oldest.id }, 'session replaced: too many sessions of one device');
      closeSession(oldest, 'SESSION_REPLACED');
    }
  }

  /**
   * Every push goes through here: a reader that lets more than maxOutboundBytes pile up is cut
   * (SLOW_CONSUMER) instead of growing this process's memory; what it missed waits in its inbox.
   */
  const push = (event: string, payload: unknown) => send(() => socket.emit(event, payload));
  /** Writes to the socket if its reader keeps up, in the one TCP write of this tick. */
  const send = (write: () => void) => {
    if (!keepsUp()) return;
    corkForThisTick(socket);
    write();
  };
  /** False (and the socket cut) when its reader let more than the bound pile up. */
  const keepsUp = () => {
    if (socket.disconnected) return false;
    const buffered = outboundBytes(socket);
    metrics.outboundPeak.observe(buffered);
    if (buffered <= context.maxOutboundBytes) return true;
    metrics.slowConsumers.inc();
    log().warn({ buffered }, 'slow consumer cut');
    cutSlowConsumer(socket);
    return false;
  };

  /** Counted and logged without its text (a push holds an envelope): see channel-messages.ts. */
  const dropped = (channel: string) => {
    metrics.droppedMessages.inc();
    log().warn({ channel }, 'channel message dropped: not a valid event');
  };
  const onDeviceMessage = (message: string) => {
    // JSON connections get the stored envelope text as it came, in a ready-made packet.
    const packet = encoding === 'json' ? encodedDelivery(message) : undefined;
    if (packet !== undefined) return send(() => writePacket(socket, packet));
    const event = deviceEventOf(message);
    if (event === undefined) return dropped('device');
    if (event.kind === 'statuses') {
      for (const status of event.events) push('envelope:status', status);
      return;
    }
    // A stored body that is no envelope is not pushed; a fetch reports it lost (ENVELOPE_LOST).
    const envelope = outgoingEnvelope(event.envelope, encoding);
    if (envelope === undefined) return dropped('device');
    push('envelope', { offset: event.offset, acceptedAt: event.acceptedAt, envelope });
  };
  const onOfficeMessage = (message: string) => {
    const office = officeEventOf(message);
    if (office === undefined) return dropped('office');
    push(office.event, office.payload);
  };
  let expiry = setTimeout(
    () => closeSession(socket, 'TOKEN_EXPIRED'),
    session.expiresAt - Date.now(),
  );
  let budget = { second: 0, used: 0 };

  const announce = async (online: boolean) => {
    const at = Date.now();
    const message = JSON.stringify({ type: 'presence', officeId: session.officeId, online, at });
    await Promise.all(
      sync.directory
        .linkedOffices(session.officeId)
        .map((o) => pubsub.publish(channels.office(o), message)),
    );
  };
  let heartbeat: NodeJS.Timeout | undefined;
  /** Subscriptions and presence; events wait for it, so none is lost while it runs. */
  const setup = async () => {
    // A revocation applied between the handshake and now found no socket to cut: check again.
    try {
      sync.directory.usableKey(session.deviceId, session.keyId, Date.now());
    } catch {
      closeSession(socket, 'DEVICE_REVOKED');
      return;
    }
    await pubsub.subscribe(deviceChannel, onDeviceMessage);
    await pubsub.subscribe(officeChannel, onOfficeMessage);
    // Gone while we were setting up (replaced, or the client left): leave no presence behind.
    if (socket.disconnected) return;

    // Presence is best effort: Redis out of memory refuses its writes, and the device must still
    // be able to drain its inbox. The heartbeat tries again.
    try {
      const live = await presence.touchPresence(
        session.officeId,
        socket.id,
        Date.now() + PRESENCE_TTL_MS,
      );
      if (live === 1) await announce(true);
      for (const office of sync.directory.linkedOffices(session.officeId)) {
        // Dropping a connection that is not there only counts the live ones.
        const count = await presence.dropPresence(office, '');
        push('presence', { officeId: office, online: count > 0, at: Date.now() });
      }
    } catch (error) {
      log().warn({ err: error }, 'presence not updated');
    }
    if (socket.disconnected) return;
    heartbeat = setInterval(() => {
      presence
        .touchPresence(session.officeId, socket.id, Date.now() + PRESENCE_TTL_MS)
        .catch(() => {});
    }, HEARTBEAT_MS);
  };
  const ready = setup();
  ready.catch((error) => {
    log().error({ err: error }, 'could not set up the connection');
    closeSession(socket, 'SERVER_SHUTDOWN', 1000);
  });

  /**
   * The client events this connection serves. One listener routes them all (below): a listener
   * and its closure per event on every socket was memory per idle connection (issue 16).
   */
  type Route = {
    schema: z.ZodType | null;
    run: (request: never) => Promise<Record<string, unknown>>;
  };
  const routes = new Map<string, Route>();
  const handle = <S extends z.ZodType>(
    event: string,
    schema: S | null,
    run: (request: z.infer<S>) => Promise<Record<string, unknown>>,
  ) => {
    routes.set(event, { schema, run });
  };

  /** One client event: checked shape, an ack always, errors as codes, never a crash. */
  const serve = async (event: string, route: Route, request: unknown, ack: Ack) => {
    const second = Math.floor(Date.now() / 1000);
    if (budget.second !== second) budget = { second, used: 0 };
    if (++budget.used > EVENTS_PER_SECOND) {
      metrics.refused.inc({ code: 'RATE_LIMITED' });
      ack({ ok: false, error: new LiaisonError('RATE_LIMITED').toWire() });
      return;
    }
    context.inFlight.count++;
    try {
      await answer(
        (reply) => {
          // Answers that come due together (one read of Redis's replies) leave in one write.
          corkForThisTick(socket);
          ack(reply);
        },
        async () => {
          checkDepth(request);
          await ready;
          const { schema, run } = route;
          return (run as (request: unknown) => Promise<Record<string, unknown>>)(
            schema ? parse(schema, request) : request,
          );
        },
        (error, wire) => {
          metrics.refused.inc({ code: wire.code });
          if (wire.details?.stored === 'unknown') metrics.lateAnswers.inc({ outcome: 'unknown' });
          if (wire.code === 'INTERNAL') log().error({ err: error, event }, 'request failed');
          // The code says what was refused; the request itself may hold an envelope: not logged.
          // Over-budget events are counted only: logging each would let a flood fill the disk.
          else if (wire.code !== 'RATE_LIMITED')
            log().info({ event, code: wire.code }, 'request refused');
        },
      );
    } finally {
      if (--context.inFlight.count === 0)
        for (const done of context.inFlight.drained.splice(0)) done();
    }
  };

  handle('envelope:send', null, async (input) => {
    const stop = metrics.sendSeconds.startTimer();
    const result = await relayEnvelope(incomingEnvelope(input, encoding), session, {
      directory: sync.directory,
      inboxes,
      rateLimitPerMinute: context.rateLimitPerMinute,
    });
    stop();
    if (result.late) metrics.lateAnswers.inc({ outcome: 'accepted' });
    if (!result.duplicate) metrics.accepted.inc({ kind: result.kind });
    return {
      id: result.id,
      seq: result.seq,
      acceptedAt: result.acceptedAt,
      duplicate: result.duplicate,
    };
  });

  // One fetch at a time per socket, each page bounded in bytes (MAX_PAGE_BYTES), and none for a
  // reader that has not taken the pages before: what one socket can make this process hold.
  let fetching = false;
  handle('inbox:fetch', FetchRequest, async ({ after, limit }) => {
    if (fetching) {
      throw new LiaisonError('RATE_LIMITED', 'one inbox:fetch at a time: wait for its answer', {
        fetchesInFlight: 1,
      });
    }
    if (!keepsUp()) throw new LiaisonError('SLOW_CONSUMER');
    fetching = true;
    try {
      const page = await inboxes.fetch(session.deviceId, after, limit);
      metrics.fetchedItems.observe(page.items.length);
      const wire = wirePage(page, log(), encoding);
      if (wire.lost) metrics.lostItems.inc(wire.lost.length);
      return wire;
    } finally {
      fetching = false;
    }
  });

  handle('inbox:ack', InboxAckRequest, async ({ upTo }) => {
    const removed = await inboxes.ack(session.deviceId, upTo);
    metrics.delivered.inc(removed.length);
    const at = Date.now();
    // "Delivered" tells the sender the addressed office has it: a copy reaching another desk of
    // the sender's own office is not that.
    // One message per sender and STATUS_BATCH ids, not one per envelope.
    const bySender = new Map<string, string[][]>();
    for (const { id, sender } of removed) {
      if (officeOfDevice(sender) === session.officeId) continue;
      const batches = bySender.get(sender) ?? [];
      const last = batches.at(-1);
      if (last && last.length < STATUS_BATCH) last.push(id);
      else batches.push([id]);
      bySender.set(sender, batches);
    }
    await Promise.all(
      [...bySender].flatMap(([sender, batches]) =>
        batches.map((ids) =>
          pubsub.publish(
            channels.device(sender),
            JSON.stringify({ type: 'status', ids, deviceId: session.deviceId, at }),
          ),
        ),
      ),
    );
    return { upTo };
  });

  handle('token:refresh', RefreshRequest, async ({ token }) => {
    const fresh = await authenticate(token, {
      role: 'device',
      audience: context.audience,
      directory: sync.directory,
      replayGuard: context.engine.replayGuard,
    });
    if (fresh.deviceId !== session.deviceId)
      throw new LiaisonError('FORBIDDEN', 'token of another device');
    session.expiresAt = fresh.expiresAt;
    session.keyId = fresh.keyId;
    clearTimeout(expiry);
    expiry = setTimeout(
      () => closeSession(socket, 'TOKEN_EXPIRED'),
      session.expiresAt - Date.now(),
    );
    return { expiresAt: session.expiresAt };
  });

  // What Redis holds, passed on only if it is even shaped like a signed object: the device
  // checks the hub's signature itself, so a gateway can withhold a checkpoint but not forge one.
  handle('record:checkpoint', CheckpointRequest, async () => {
    const text = await context.engine.checkpoints.latest();
    let stored: unknown = null;
    try {
      stored = text === undefined ? null : JSON.parse(text);
    } catch {
      stored = null;
    }
    const signed = Signed.safeParse(stored);
    return { checkpoint: signed.success ? signed.data : null };
  });

  handle('prekeys:publish', PrekeyPublishRequest, (request) =>
    publishPrekeys(context.engine.prekeys, sync.directory, session, request, Date.now()),
  );
  handle('prekeys:get', PrekeyGetRequest, (request) =>
    servePrekeys(context.engine.prekeys, request, Date.now()),
  );

  serveBlobs(handle, {
    blobs: context.engine.blobs,
    directory: () => sync.directory,
    session,
    quotaBytes: context.attachmentQuotaBytes,
    counted: (direction, bytes) => metrics.blobBytes.inc({ direction }, bytes),
  });

  // Every event a client sends comes through here; a request without an ack is ignored (a
  // client that cannot read the answer gets none), an event we do not serve is refused.
  socket.onAny((event: string, ...args: unknown[]) => {
    // Socket.IO calls this before its own check that the socket is still connected: a request
    // read in the same segment as a frame that closed the socket would be served unanswered.
    if (!socket.connected) return;
    const route = routes.get(event);
    if (route !== undefined) {
      const [request, ack] = args;
      if (typeof ack === 'function') void serve(event, route, request, ack as Ack);
      return;
    }
    const ack = args[args.length - 1];
    if (typeof ack === 'function') {
      ack({
        ok: false,
        error: new LiaisonError('VALIDATION_FAILED', `unknown event ${event}`).toWire(),
      });
    }
  });

  socket.on('disconnect', (reason) => {
    log().info({ reason }, 'disconnected');
    clearInterval(heartbeat);
    clearTimeout(expiry);
    mine.delete(socket);
    if (mine.size === 0 && context.sockets.get(session.deviceId) === mine)
      context.sockets.delete(session.deviceId);
    metrics.connections.dec();
    void (async () => {
      // Undo only what setup did, after it did it (a socket can go while setup still runs).
      await ready.catch(() => undefined);
      clearInterval(heartbeat);
      await pubsub.unsubscribe(deviceChannel, onDeviceMessage);
      await pubsub.unsubscribe(officeChannel, onOfficeMessage);
      const left = await presence.dropPresence(session.officeId, socket.id);
      if (left === 0) await announce(false);
    })().catch((error) => log().warn({ err: error }, 'cleanup after disconnect failed'));
  });
  metrics.connections.inc();
  logger.info(ids, 'connected');
}
