import type { FastifyPluginAsync } from 'fastify';
import { Server } from 'socket.io';
import { FeedSubscribeRequest } from '../../protocol/v1/analyst.js';
import { channels } from '../engine/keyspace.js';
import type { PubSub } from '../engine/pubsub.js';
import { LiaisonError } from '../errors.js';
import { handshakeToken, type Session, socketAuthentication } from '../runtime/auth.js';
import type { DirectorySync } from '../runtime/directory-sync.js';
import { type Ack, answer, connectRefusal, parse } from '../runtime/wire.js';
import { matches } from './filter.js';
import type { RecordReader } from './reader.js';
import { parseEntry } from './record.js';

export interface LiveFeedOptions {
  readonly reader: RecordReader;
  readonly sync: DirectorySync;
  /** Where hub replicas announce new entries and escalations. */
  readonly pubsub: PubSub;
  readonly analyst: (token: string | undefined) => Promise<Session>;
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
    const expiry = setTimeout(
      () => socket.disconnect(true),
      socket.data.session.expiresAt - Date.now(),
    );
    socket.on('feed:subscribe', async (request: unknown, ack: unknown) => {
      if (typeof ack !== 'function') return;
      await answer(ack as Ack, async () => {
        const { after, limit, filter } = parse(FeedSubscribeRequest, request ?? {});
        socket.data.filter = filter;
        return reader.search(filter, after, limit);
      });
    });
    socket.on('disconnect', () => clearTimeout(expiry));
  });

  // Each new entry is parsed and opened once, then sent to every analyst whose filter it matches.
  const onRecorded = (stored: string) => {
    const entry = parseEntry(stored).body;
    const audience = [...feed.sockets.values()].filter(
      (socket) => socket.data.filter && matches(entry, socket.data.filter),
    );
    if (audience.length === 0) return;
    reader.view(stored).then(
      (view) => {
        for (const socket of audience) socket.emit('record', view);
      },
      () => undefined,
    );
  };
  const onEscalation = (message: string) => feed.emit('escalation', JSON.parse(message));
  // A revoked analyst loses the feed at once, like a revoked office device loses the relay.
  sync.onStatement((statement) => {
    if (statement.kind !== 'device.revoked') return;
    for (const socket of feed.sockets.values()) {
      if (socket.data.session?.deviceId === statement.deviceId) socket.disconnect(true);
    }
  });
  await pubsub.subscribe(channels.recorded, onRecorded);
  await pubsub.subscribe(channels.escalations, onEscalation);

  app.addHook('preClose', async () => {
    await new Promise<void>((done) => io.close(() => done()));
  });
  app.addHook('onClose', async () => {
    await pubsub.unsubscribe(channels.recorded, onRecorded);
    await pubsub.unsubscribe(channels.escalations, onEscalation);
  });
};
