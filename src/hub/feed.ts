import type { FastifyPluginAsync } from 'fastify';
import { Server, type Socket } from 'socket.io';
import type { z } from 'zod';
import { FeedEscalation, FeedSubscribeRequest } from '../../protocol/v1/analyst.js';
import { BlobGetRequest } from '../../protocol/v1/blob.js';
import { type ClosingEvent, RefreshRequest } from '../../protocol/v1/events.js';
import type { BlobStore } from '../engine/blob-store.js';
import { channels } from '../engine/keyspace.js';
import type { PubSub } from '../engine/pubsub.js';
import { LiaisonError } from '../errors.js';
import { handshakeToken, type Session, socketAuthentication } from '../runtime/auth.js';
import type { DirectorySync } from '../runtime/directory-sync.js';
import { type Ack, answer, connectRefusal, parse } from '../runtime/wire.js';
import type { AlertBook } from './alert-book.js';
import { matches, matchesContent } from './filter.js';
import type { RecordReader } from './reader.js';
import { parseEntry, recordedEntries } from './record.js';

export interface LiveFeedOptions {
  readonly reader: RecordReader;
  readonly sync: DirectorySync;
  /** Where hub replicas announce new entries and escalations. */
  readonly pubsub: PubSub;
  readonly analyst: (token: string | undefined) => Promise<Session>;
  /** Where escalations are kept for analysts catching up after a gap. */
  readonly alerts: AlertBook;
  /** The attachment blobs, read for analysts (`blob:get`, PROTOCOL.md §8.2). */
  readonly blobs: Pick<BlobStore, 'status' | 'get'>;
}

type Closing = z.infer<typeof ClosingEvent>;

/** Tells the analyst why, then closes its socket (PROTOCOL.md §10a, as on the gateway §9.3). */
function closeFeed(socket: Socket, code: Closing['code'], reconnectAfterMs?: number) {
  socket.emit(
    'session:closing',
    reconnectAfterMs === undefined ? { code } : { code, reconnectAfterMs },
  );
  socket.disconnect(true);
}

/**
 * The analysts' live feed, the `/analyst` Socket.IO namespace: catch up from a position, then
 * every new entry (from any replica) that matches the analyst's filter, and every escalation.
 * Closes its sockets in `preClose` and leaves its channels in `onClose`.
 */
export const liveFeed: FastifyPluginAsync<LiveFeedOptions> = async (app, options) => {
  const { reader, sync, pubsub } = options;
  const io = new Server(app.server, {
    transports: ['websocket'],
    serveClient: false,
    maxHttpBufferSize: 64 * 1024,
  });
  // Nothing is served on the default namespace: refuse it rather than hold idle sockets.
  io.use((_socket, next) =>
    next(
      connectRefusal(new LiaisonError('UNAUTHORIZED', 'connect to /analyst with an analyst token')),
    ),
  );
  const feed = io.of('/analyst');
  feed.use(
    socketAuthentication((socket) => options.analyst(handshakeToken(socket.handshake.auth))),
  );
  feed.on('connection', (socket) => {
    const session: Session = socket.data.session;
    const expireAt = (at: number) =>
      setTimeout(() => closeFeed(socket, 'TOKEN_EXPIRED'), at - Date.now());
    let expiry = expireAt(session.expiresAt);
    socket.on('feed:subscribe', async (request: unknown, ack: unknown) => {
      if (typeof ack !== 'function') return;
      await answer(ack as Ack, async () => {
        const { after, limit, filter, escalationsAfter } = parse(
          FeedSubscribeRequest,
          request ?? {},
        );
        await follow(true);
        socket.data.filter = filter;
        const page = await reader.search(filter, after, limit);
        if (escalationsAfter === undefined) return page;
        return { ...page, escalations: await options.alerts.escalationsAfter(escalationsAfter) };
      });
    });
    // A fresh token of the same analyst keeps the session (as `token:refresh` on the gateway).
    socket.on('token:refresh', async (request: unknown, ack: unknown) => {
      if (typeof ack !== 'function') return;
      await answer(ack as Ack, async () => {
        const { token } = parse(RefreshRequest, request);
        const fresh = await options.analyst(token);
        if (fresh.deviceId !== session.deviceId)
          throw new LiaisonError('FORBIDDEN', 'token of another analyst');
        session.expiresAt = fresh.expiresAt;
        session.keyId = fresh.keyId;
        clearTimeout(expiry);
        expiry = expireAt(session.expiresAt);
        return { expiresAt: session.expiresAt };
      });
    });
    // CARICC is a recipient of every envelope: an analyst may read any sealed blob (ciphertext;
    // the key is in the body the hub opened for it).
    socket.on('blob:get', async (request: unknown, ack: unknown) => {
      if (typeof ack !== 'function') return;
      await answer(ack as Ack, async () => {
        const { blobId, index } = parse(BlobGetRequest, request);
        const state = await options.blobs.status(blobId);
        const chunk = state?.sealed ? await options.blobs.get(blobId, index) : undefined;
        if (!chunk) throw new LiaisonError('BLOB_NOT_FOUND');
        return { chunk };
      });
    });
    socket.on('disconnect', () => {
      clearTimeout(expiry);
      if (feed.sockets.size === 0) void follow(false).catch(() => undefined);
    });
  });

  // Each new entry is parsed and opened once, then sent to every analyst whose filter it matches.
  const onRecorded = (message: string) => {
    if (feed.sockets.size === 0) return;
    for (const stored of recordedEntries(message)) {
      // Whoever writes to Redis can publish here: what does not parse is no entry of ours.
      let entry: ReturnType<typeof parseEntry>['body'];
      try {
        entry = parseEntry(stored).body;
      } catch {
        continue;
      }
      const audience = [...feed.sockets.values()].filter(
        (socket) => socket.data.filter && matches(entry, socket.data.filter),
      );
      if (audience.length === 0) continue;
      reader.view(stored).then(
        (view) => {
          for (const socket of audience) {
            if (matchesContent(view, socket.data.filter)) socket.emit('record', view);
          }
        },
        () => undefined,
      );
    }
  };
  // Every entry of every replica crosses this channel: it is followed only while an analyst is
  // connected here, so a hub nobody watches costs Redis no copy of each entry. Changes run one at
  // a time; a subscribe waits for the channel before it reads the catch-up page (no gap).
  let live = false;
  let changes = Promise.resolve();
  const follow = (want: boolean): Promise<void> => {
    const change = changes.then(async () => {
      if (!want && feed.sockets.size > 0) return;
      if (want === live) return;
      live = want;
      await (want
        ? pubsub.subscribe(channels.recorded, onRecorded)
        : pubsub.unsubscribe(channels.recorded, onRecorded));
    });
    changes = change.catch(() => {
      live = false;
    });
    return change;
  };
  const onEscalation = (message: string) => {
    let escalation: unknown;
    try {
      escalation = JSON.parse(message);
    } catch {
      return;
    }
    const event = FeedEscalation.safeParse(escalation);
    if (event.success) feed.emit('escalation', event.data);
  };
  // A revoked analyst loses the feed at once, like a revoked office device loses the relay.
  sync.onStatement((statement) => {
    if (statement.kind !== 'device.revoked') return;
    for (const socket of feed.sockets.values()) {
      if (socket.data.session?.deviceId === statement.deviceId) closeFeed(socket, 'DEVICE_REVOKED');
    }
  });
  await pubsub.subscribe(channels.escalations, onEscalation);

  app.addHook('preClose', async () => {
    const reconnectAfterMs = 1000 + Math.floor(Math.random() * 4000);
    for (const socket of feed.sockets.values())
      socket.emit('session:closing', { code: 'SERVER_SHUTDOWN', reconnectAfterMs });
    await new Promise<void>((done) => io.close(() => done()));
  });
  // With Redis gone there is nothing to leave: the hub's close drops the connection next.
  app.addHook('onClose', async () => {
    await Promise.allSettled([
      follow(false),
      pubsub.unsubscribe(channels.escalations, onEscalation),
    ]);
  });
};
