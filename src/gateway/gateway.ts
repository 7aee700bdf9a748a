import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Server } from 'socket.io';
import type { Signed } from '../../protocol/v1/certificate.js';
import type { PinnedAuthority } from '../crypto/certificate.js';
import type { Engine } from '../engine/engine.js';
import { LiaisonError } from '../errors.js';
import {
  authenticate,
  claimedIdentity,
  handshakeToken,
  socketAuthentication,
} from '../runtime/auth.js';
import { DirectorySync } from '../runtime/directory-sync.js';
import { startOnNativeCrypto } from '../runtime/native-crypto.js';
import { PLUGIN_TIMEOUT_MS } from '../runtime/plugin-timeout.js';
import { DEFAULT_ATTACHMENT_QUOTA_BYTES } from './blobs.js';
import { attachConnection, closeSession, type GatewayContext } from './connection.js';
import { type ConsoleOptions, serveConsole } from './console.js';
import { registerRoutes } from './http.js';
import { createMetrics } from './metrics.js';
import { MAX_OUTBOUND_BYTES } from './outbound.js';

/** Handshake refusals an administrator must see (warn): a key that is no longer good came back. */
const SECURITY_REFUSALS = new Set(['DEVICE_REVOKED', 'KEY_ROTATED', 'CERT_REVOKED']);

export interface GatewayOptions {
  readonly host: string;
  readonly port: number;
  readonly audience: string;
  readonly rateLimitPerMinute: number;
  /** Bytes of attachment blobs one office may have stored (default DEFAULT_ATTACHMENT_QUOTA_BYTES). */
  readonly attachmentQuotaBytes?: number;
  readonly shutdownGraceMs: number;
  readonly tls?: { certFile: string; keyFile: string } | undefined;
  /**
   * Statements to load before listening when the shared directory is empty; for a large file, a
   * function that reads them in windows (each time it is called), so it is never in memory whole.
   */
  readonly bootstrap?: readonly Signed[] | (() => AsyncIterable<readonly Signed[]>);
  /** The directory head that came with the bootstrap statements, if the file has one. */
  readonly bootstrapHead?: Signed;
  /** Directory posts one client address may make per minute (default 30). */
  readonly directoryPostsPerMinute?: number;
  /** Bytes a socket may have waiting to be written before it is cut (default MAX_OUTBOUND_BYTES). */
  readonly maxOutboundBytes?: number;
  /** Where the built web Console is and which hub it may reach (see console.ts). */
  readonly console?: ConsoleOptions;
}

export interface Gateway {
  readonly url: string;
  readonly port: number;
  readonly sync: DirectorySync;
  /** Stops taking connections, tells clients to come back, finishes what is in flight, closes. */
  close(): Promise<void>;
}

/** Messages above this close the connection (Socket.IO's own limit); smaller ones get codes. */
const MAX_SOCKET_MESSAGE_BYTES = 1024 * 1024;

/**
 * Starts a gateway instance: Fastify for HTTP and Socket.IO (WebSocket only) on the same port.
 * The engine is shared with sibling instances; the logger and the authority pin are given.
 */
export async function startGateway(
  options: GatewayOptions,
  deps: { engine: Engine; authority: PinnedAuthority; logger: Logger },
): Promise<Gateway> {
  const { engine, logger } = deps;
  startOnNativeCrypto(logger);
  const metrics = createMetrics();
  engine.pubsub.onHandlerError = (error, channel) => {
    metrics.droppedMessages.inc();
    logger.error(
      { err: error, channel: channel.split(':')[0] },
      'a channel message handler failed',
    );
  };
  // A Redis that evicts keys would lose acknowledged envelopes: refuse to start on one.
  await engine.ping();
  const sync = new DirectorySync(engine.directoryLog, engine.pubsub, deps.authority);
  await sync.start();
  if (options.bootstrap && sync.directory.version === 0) {
    const version = await sync.submit(options.bootstrap);
    logger.info({ version }, 'directory bootstrapped');
  }
  if (options.bootstrapHead) {
    // A head the file carries is served unless a newer one is; an expired one is refused here.
    await sync.submitHead(options.bootstrapHead).then(
      (version) => logger.info({ version }, 'directory head published'),
      (error: unknown) =>
        logger.warn({ err: error }, 'the directory file’s head was not published'),
    );
  }

  const https = options.tls
    ? { cert: await readFile(options.tls.certFile), key: await readFile(options.tls.keyFile) }
    : null;
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: MAX_SOCKET_MESSAGE_BYTES,
    // Plugins start in well under a second; a machine busy with other work may need far longer,
    // and a start that merely takes long must not fail.
    pluginTimeout: PLUGIN_TIMEOUT_MS,
    ...(https ? { https } : {}),
  }) as unknown as FastifyInstance;
  let closing = false;

  const io = new Server(app.server, {
    transports: ['websocket'],
    serveClient: false,
    maxHttpBufferSize: MAX_SOCKET_MESSAGE_BYTES,
  });
  const context: GatewayContext = {
    engine,
    sync,
    metrics,
    logger,
    audience: options.audience,
    rateLimitPerMinute: options.rateLimitPerMinute,
    attachmentQuotaBytes: options.attachmentQuotaBytes ?? DEFAULT_ATTACHMENT_QUOTA_BYTES,
    maxOutboundBytes: options.maxOutboundBytes ?? MAX_OUTBOUND_BYTES,
    sockets: new Map(),
    inFlight: { count: 0, drained: [] },
  };

  registerRoutes(app, {
    sync,
    engine,
    metrics,
    isClosing: () => closing,
    localDevices: () => context.sockets.keys(),
    ...(options.directoryPostsPerMinute
      ? { directoryPostsPerMinute: options.directoryPostsPerMinute }
      : {}),
  });
  await serveConsole(app, options.console);

  io.use(
    socketAuthentication(
      async (socket) => {
        if (closing) throw new LiaisonError('UNAVAILABLE', 'the gateway is shutting down');
        await sync.refresh();
        return authenticate(handshakeToken(socket.handshake.auth), {
          role: 'device',
          audience: options.audience,
          directory: sync.directory,
          replayGuard: engine.replayGuard,
        });
      },
      (refusal, cause, socket) => {
        metrics.refused.inc({ code: refusal.code });
        if (refusal.code === 'INTERNAL') return logger.error({ err: cause }, 'handshake failed');
        // Who tried, as the token claims it (never the token itself); a revoked or rotated-out
        // key trying to come back is what an administrator must see.
        const attempt = {
          code: refusal.code,
          address: socket.handshake.address,
          ...claimedIdentity(handshakeToken(socket.handshake.auth)),
        };
        if (SECURITY_REFUSALS.has(refusal.code))
          logger.warn(attempt, 'connection refused: revoked or rotated-out key');
        else logger.info(attempt, 'connection refused');
      },
    ),
  );
  io.on('connection', (socket) => {
    attachConnection(socket, socket.data.session, context).catch((error) => {
      logger.error({ err: error }, 'could not set up a connection');
      closeSession(socket, 'SERVER_SHUTDOWN', 1000);
    });
  });

  // Revoking a device cuts its connections at once, on every instance: each follows the log.
  // A device revoked as a whole never comes back (ids are not re-enrolled): its inbox goes too.
  sync.onStatement((statement) => {
    // A session signed in with a key that is rotated out is closed like a revoked one: its sends
    // would be refused with KEY_ROTATED anyway; it reconnects with a token of the new key.
    if (statement.kind === 'device.key-rotated') {
      for (const sessions of context.sockets.values()) {
        for (const socket of sessions) {
          if (socket.data.session.keyId === statement.previousKeyId)
            closeSession(socket, 'KEY_ROTATED');
        }
      }
      return;
    }
    if (statement.kind !== 'device.revoked') return;
    if (statement.keyId === undefined) {
      engine.inboxes.dropInbox(statement.deviceId).catch((error) => {
        logger.warn({ err: error, device: statement.deviceId }, 'could not drop the inbox');
      });
    }
    for (const socket of context.sockets.get(statement.deviceId) ?? []) {
      const session = socket.data.session;
      if (statement.keyId === undefined || statement.keyId === session.keyId) {
        closeSession(socket, 'DEVICE_REVOKED');
      }
    }
  });

  app.addHook('preClose', async () => {
    closing = true;
    const reconnectAfterMs = 1000 + Math.floor(Math.random() * 4000);
    for (const socket of io.sockets.sockets.values()) {
      socket.emit('session:closing', { code: 'SERVER_SHUTDOWN', reconnectAfterMs });
    }
    if (context.inFlight.count > 0) {
      await Promise.race([
        new Promise<void>((done) => context.inFlight.drained.push(done)),
        new Promise((done) => setTimeout(done, options.shutdownGraceMs)),
      ]);
    }
    await new Promise<void>((done) => io.close(() => done()));
  });
  // With Redis gone there is nothing to leave; the engine's close drops the connections next.
  app.addHook('onClose', async () => {
    await sync
      .stop()
      .catch((error) => logger.warn({ err: error }, 'leaving the directory channel failed'));
  });

  await app.listen({ host: options.host, port: options.port });
  const { port } = app.server.address() as AddressInfo;
  const scheme = https ? 'https' : 'http';
  const url = `${scheme}://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`;
  logger.info({ url, engine: engine.kind }, 'gateway listening');
  return { url, port, sync, close: () => app.close() };
}
