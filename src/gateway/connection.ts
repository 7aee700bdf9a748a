import type { Logger } from 'pino';
import type { Socket } from 'socket.io';
import type { z } from 'zod';
import { Signed } from '../../protocol/v1/certificate.js';
import {
  CheckpointRequest,
  CLIENT_EVENTS,
  type ClosingEvent,
  FetchRequest,
  InboxAckRequest,
  RefreshRequest,
} from '../../protocol/v1/events.js';
import type { Engine } from '../engine/engine.js';
import { channels } from '../engine/keyspace.js';
import { LiaisonError } from '../errors.js';
import { authenticate, type Session } from '../runtime/auth.js';
import type { DirectorySync } from '../runtime/directory-sync.js';
import { type Ack, answer, parse } from '../runtime/wire.js';
import type { Metrics } from './metrics.js';
import { relayEnvelope } from './relay.js';

/** How long a connection counts as present without a heartbeat (survives a killed instance). */
const PRESENCE_TTL_MS = 30_000;
const HEARTBEAT_MS = 10_000;
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
  /** Local sockets by device: a device has at most one live connection. */
  readonly sockets: Map<string, Socket>;
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
  const log = logger.child({ device: session.deviceId, connection: socket.id });
  const deviceChannel = channels.device(session.deviceId);
  const officeChannel = channels.office(session.officeId);

  const previous = context.sockets.get(session.deviceId);
  if (previous && previous !== socket) closeSession(previous, 'SESSION_REPLACED');
  context.sockets.set(session.deviceId, socket);

  const onDeviceMessage = (message: string) => {
    const m = JSON.parse(message);
    if (m.type === 'envelope') {
      socket.emit('envelope', { offset: m.offset, acceptedAt: m.acceptedAt, envelope: m.envelope });
    } else if (m.type === 'status') {
      socket.emit('envelope:status', {
        id: m.id,
        status: 'delivered',
        deviceId: m.deviceId,
        at: m.at,
      });
    } else if (m.type === 'replace' && m.connection !== socket.id) {
      closeSession(socket, 'SESSION_REPLACED');
    }
  };
  const onOfficeMessage = (message: string) => {
    const m = JSON.parse(message);
    if (m.type === 'escalation') {
      const { alertId, precedence, to, acceptedAt, escalatedAt } = m;
      socket.emit('alert:escalated', { alertId, precedence, to, acceptedAt, escalatedAt });
    }
    if (m.type === 'presence')
      socket.emit('presence', { officeId: m.officeId, online: m.online, at: m.at });
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
    // Another instance may hold an older connection of this device: it closes it on this message.
    await pubsub.publish(deviceChannel, JSON.stringify({ type: 'replace', connection: socket.id }));
    // Gone while we were setting up (replaced, or the client left): leave no presence behind.
    if (socket.disconnected) return;

    const live = await presence.touchPresence(
      session.officeId,
      socket.id,
      Date.now() + PRESENCE_TTL_MS,
    );
    if (live === 1) await announce(true);
    for (const office of sync.directory.linkedOffices(session.officeId)) {
      // Dropping a connection that is not there only counts the live ones.
      const count = await presence.dropPresence(office, '');
      socket.emit('presence', { officeId: office, online: count > 0, at: Date.now() });
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
    log.error({ err: error }, 'could not set up the connection');
    closeSession(socket, 'SERVER_SHUTDOWN', 1000);
  });

  /** One client event: checked shape, an ack always, errors as codes, never a crash. */
  const handle = <S extends z.ZodType>(
    event: string,
    schema: S | null,
    run: (request: z.infer<S>) => Promise<Record<string, unknown>>,
  ) => {
    socket.on(event, async (request: unknown, ack: unknown) => {
      if (typeof ack !== 'function') return;
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
          ack as Ack,
          async () => {
            await ready;
            return run(schema ? parse(schema, request) : (request as z.infer<S>));
          },
          (error, wire) => {
            if (wire.code === 'INTERNAL') log.error({ err: error, event }, 'request failed');
            metrics.refused.inc({ code: wire.code });
          },
        );
      } finally {
        if (--context.inFlight.count === 0)
          for (const done of context.inFlight.drained.splice(0)) done();
      }
    });
  };

  handle('envelope:send', null, async (input) => {
    const stop = metrics.sendSeconds.startTimer();
    const result = await relayEnvelope(input, session, {
      directory: sync.directory,
      inboxes,
      rateLimitPerMinute: context.rateLimitPerMinute,
    });
    stop();
    if (!result.duplicate) metrics.accepted.inc({ kind: result.kind });
    return {
      id: result.id,
      seq: result.seq,
      acceptedAt: result.acceptedAt,
      duplicate: result.duplicate,
    };
  });

  handle('inbox:fetch', FetchRequest, async ({ after, limit }) => {
    const page = await inboxes.fetch(session.deviceId, after, limit);
    metrics.fetchedItems.observe(page.items.length);
    const items = page.items.map((item) => ({
      offset: item.offset,
      acceptedAt: item.acceptedAt,
      envelope: JSON.parse(item.envelope),
    }));
    return { items, more: page.more, gap: page.gap };
  });

  handle('inbox:ack', InboxAckRequest, async ({ upTo }) => {
    const removed = await inboxes.ack(session.deviceId, upTo);
    metrics.delivered.inc(removed.length);
    const at = Date.now();
    await Promise.all(
      removed.map(({ id, sender }) =>
        pubsub.publish(
          channels.device(sender),
          JSON.stringify({ type: 'status', id, deviceId: session.deviceId, at }),
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

  socket.onAny((event: string, ...args: unknown[]) => {
    const ack = args[args.length - 1];
    if (!Object.hasOwn(CLIENT_EVENTS, event) && typeof ack === 'function') {
      ack({
        ok: false,
        error: new LiaisonError('VALIDATION_FAILED', `unknown event ${event}`).toWire(),
      });
    }
  });

  socket.on('disconnect', () => {
    clearInterval(heartbeat);
    clearTimeout(expiry);
    if (context.sockets.get(session.deviceId) === socket) context.sockets.delete(session.deviceId);
    metrics.connections.dec();
    void (async () => {
      // Undo only what setup did, after it did it (a socket can go while setup still runs).
      await ready.catch(() => undefined);
      clearInterval(heartbeat);
      await pubsub.unsubscribe(deviceChannel, onDeviceMessage);
      await pubsub.unsubscribe(officeChannel, onOfficeMessage);
      const left = await presence.dropPresence(session.officeId, socket.id);
      if (left === 0) await announce(false);
    })().catch((error) => log.warn({ err: error }, 'cleanup after disconnect failed'));
  });
  metrics.connections.inc();
  log.info('connected');
}
