import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { Server } from 'socket.io';
import { ERRORS } from '../../protocol/errors.js';
import { FeedSubscribeRequest } from '../../protocol/v1/analyst.js';
import type { PinnedAuthority } from '../crypto/certificate.js';
import type { DeviceKeys } from '../crypto/keys.js';
import { channels } from '../engine/engine.js';
import type { RedisEngine } from '../engine/redis.js';
import { issuesOf, LiaisonError } from '../errors.js';
import { DirectorySync } from '../gateway/directory-sync.js';
import { authenticateAnalyst, bearer, Paging, StatsQuery } from './analysts.js';
import { allowConsole } from './cors.js';
import { type Escalation, Escalator } from './escalator.js';
import { matches, RecordFilter } from './filter.js';
import { RecordReader } from './reader.js';
import { parseEntry, verifyChain } from './record.js';
import { type Deadlines, Recorder } from './recorder.js';
import { trimRecord } from './retention.js';
import { computeStatistics } from './stats.js';
import type { HubStore } from './store.js';

export interface HubOptions {
  readonly host: string;
  readonly port: number;
  readonly audience: string;
  readonly consumer: string;
  readonly deadlines: Deadlines;
  /** How long the record keeps an entry (ms). */
  readonly retentionMs: number;
  /** Origins of web Consoles allowed to call the record API (CORS), e.g. the gateway's. */
  readonly consoleOrigins?: readonly string[];
}

export interface Hub {
  readonly url: string;
  readonly recorder: Recorder;
  readonly escalator: Escalator;
  close(): Promise<void>;
}

const GROUP = 'hub';
/** Escalations and new entries cross hub replicas on these channels. */
const RECORDED = 'hub:recorded';
const ESCALATIONS = 'hub:escalations';

/**
 * Starts a hub replica: it records every accepted envelope (sharing the work with other replicas
 * through a consumer group), escalates overdue alerts, and serves analysts over HTTP and the
 * `/analyst` Socket.IO namespace. The engine gives it the directory, token replay protection and
 * pub/sub; the store gives it the stream and the record.
 */
export async function startHub(
  options: HubOptions,
  deps: {
    engine: RedisEngine;
    store: HubStore;
    hubKeys: DeviceKeys;
    authority: PinnedAuthority;
    logger: Logger;
  },
): Promise<Hub> {
  const { engine, store, hubKeys, logger } = deps;
  const sync = new DirectorySync(engine, deps.authority);
  await sync.start();
  await store.ensureGroup(GROUP);
  const directory = () => sync.directory;
  const reader = new RecordReader(store, hubKeys, directory);

  const recorder = new Recorder({
    store,
    directory,
    hubKeys,
    deadlines: options.deadlines,
    group: GROUP,
    consumer: options.consumer,
    refresh: () => sync.refresh(),
    onError: (error) => logger.error({ err: error }, 'recording failed; retrying'),
    onRecorded: (stored) => {
      recordedTotal.inc();
      void engine.publish(RECORDED, stored).catch(() => undefined);
    },
  });
  const escalator = new Escalator(
    store,
    async (escalation: Escalation) => {
      logger.warn(
        { alert: escalation.alertId, precedence: escalation.precedence, from: escalation.from },
        'alert escalated',
      );
      const message = JSON.stringify(escalation);
      await engine.publish(channels.office(escalation.from), message);
      await engine.publish(ESCALATIONS, message);
    },
    (error) => logger.error({ err: error }, 'escalation failed'),
    () => store.frontier(GROUP),
  );

  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
  }) as unknown as FastifyInstance;
  await allowConsole(app, options.consoleOrigins ?? []);
  app.setErrorHandler((error, _request, reply) => {
    const liaison = error instanceof LiaisonError ? error : new LiaisonError('INTERNAL');
    if (liaison.code === 'INTERNAL') logger.error({ err: error }, 'request failed');
    void reply.status(liaison.status).send({ error: liaison.toWire() });
  });
  const analyst = (authorization: string | undefined) =>
    authenticateAnalyst(bearer(authorization), sync.directory, engine, options.audience);
  const parse = <T>(
    schema: {
      safeParse(
        v: unknown,
      ):
        | { success: true; data: T }
        | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } };
    },
    value: unknown,
  ): T => {
    const parsed = schema.safeParse(value);
    if (!parsed.success)
      throw new LiaisonError('VALIDATION_FAILED', undefined, issuesOf(parsed.error));
    return parsed.data;
  };

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    try {
      await engine.ping();
      return { status: 'ready', recorded: await store.length() };
    } catch {
      return reply.status(503).send({ status: 'redis unreachable' });
    }
  });
  // Operators watch how far behind the record runs; content never appears here.
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'liaison_hub_' });
  const recordedTotal = new Counter({
    name: 'liaison_hub_recorded_total',
    help: 'Entries this replica appended',
    registers: [registry],
  });
  const lagSeconds = new Gauge({
    name: 'liaison_hub_lag_seconds',
    help: 'Age of the oldest accepted envelope not yet recorded (0 when up to date)',
    registers: [registry],
  });
  const recordLength = new Gauge({
    name: 'liaison_hub_record_entries',
    help: 'Entries kept in the record',
    registers: [registry],
  });
  app.get('/metrics', async (_request, reply) => {
    const frontier = await store.frontier(GROUP);
    lagSeconds.set(frontier === undefined ? 0 : Math.max(0, (Date.now() - frontier) / 1000));
    recordLength.set(await store.length());
    void reply.header('content-type', registry.contentType);
    return registry.metrics();
  });

  app.get('/v1/record', async (request) => {
    await analyst(request.headers.authorization);
    const { after, limit, ...rest } = request.query as Record<string, string>;
    const paging = parse(Paging, { after, limit });
    const filter = parse(RecordFilter, rest);
    return reader.search(filter, paging.after, paging.limit);
  });
  app.get('/v1/record/verify', async (request) => {
    await analyst(request.headers.authorization);
    const all = await store.allEntries();
    return verifyChain(all, await store.base(), await store.head());
  });
  app.get('/v1/stats', async (request) => {
    await analyst(request.headers.authorization);
    const query = parse(StatsQuery, request.query);
    return computeStatistics(reader, store, sync.directory, {
      since: query.since,
      until: query.until ?? Date.now(),
      silentMs: query.silentHours * 3_600_000,
    });
  });

  // The live feed: catch up from a position, then every new entry and escalation that matches.
  const io = new Server(app.server, {
    transports: ['websocket'],
    serveClient: false,
    maxHttpBufferSize: 64 * 1024,
  });
  const feed = io.of('/analyst');
  feed.use((socket, next) => {
    analyst(`Bearer ${(socket.handshake.auth as { token?: string })?.token ?? ''}`).then(
      (session) => {
        socket.data.session = session;
        next();
      },
      (error: unknown) => {
        const refusal = error instanceof LiaisonError ? error : new LiaisonError('INTERNAL');
        next(Object.assign(new Error(refusal.message), { data: refusal.toWire() }));
      },
    );
  });
  feed.on('connection', (socket) => {
    const expiry = setTimeout(
      () => socket.disconnect(true),
      socket.data.session.expiresAt - Date.now(),
    );
    socket.on('feed:subscribe', async (request: unknown, ack: unknown) => {
      if (typeof ack !== 'function') return;
      try {
        const { after, limit, filter: wanted } = parse(FeedSubscribeRequest, request ?? {});
        socket.data.filter = wanted;
        ack({ ok: true, ...(await reader.search(wanted, after, limit)) });
      } catch (error) {
        const wire =
          error instanceof LiaisonError
            ? error.toWire()
            : { code: 'INTERNAL', message: ERRORS.INTERNAL.message };
        ack({ ok: false, error: wire });
      }
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
  // A revoked analyst loses the feed at once, like a revoked office device loses the relay.
  sync.onStatement((statement) => {
    if (statement.kind !== 'device.revoked') return;
    for (const socket of feed.sockets.values()) {
      if (socket.data.session?.deviceId === statement.deviceId) socket.disconnect(true);
    }
  });
  const onEscalation = (message: string) => feed.emit('escalation', JSON.parse(message));
  await engine.subscribe(RECORDED, onRecorded);
  await engine.subscribe(ESCALATIONS, onEscalation);

  app.addHook('preClose', async () => {
    await new Promise<void>((done) => io.close(() => done()));
  });
  recorder.start();
  escalator.start();
  const retention = setInterval(() => {
    Promise.all([
      trimRecord(store, Date.now() - options.retentionMs),
      store.trimStream(GROUP),
    ]).catch((error) => logger.error({ err: error }, 'trimming failed'));
  }, 10_000);
  retention.unref();
  await app.listen({ host: options.host, port: options.port });
  const { port } = app.server.address() as AddressInfo;
  const url = `http://${options.host}:${port}`;
  logger.info({ url, consumer: options.consumer }, 'hub listening');

  return {
    url,
    recorder,
    escalator,
    async close() {
      escalator.stop();
      clearInterval(retention);
      await recorder.stop();
      await engine.unsubscribe(RECORDED, onRecorded);
      await engine.unsubscribe(ESCALATIONS, onEscalation);
      await app.close();
      await sync.stop();
    },
  };
}
