import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { FeedEscalation } from '../../protocol/v1/analyst.js';
import type { PinnedAuthority } from '../crypto/certificate.js';
import type { DeviceKeys } from '../crypto/keys.js';
import { signCheckpoint } from '../directory/checkpoint.js';
import type { Engine } from '../engine/engine.js';
import { channels } from '../engine/keyspace.js';
import { authenticate } from '../runtime/auth.js';
import { DirectorySync } from '../runtime/directory-sync.js';
import { answerErrorsOnTheWire } from '../runtime/http-errors.js';
import { startOnNativeCrypto } from '../runtime/native-crypto.js';
import { PLUGIN_TIMEOUT_MS } from '../runtime/plugin-timeout.js';
import { allowConsole } from './cors.js';
import { Escalator } from './escalator.js';
import { liveFeed } from './feed.js';
import { createHubMetrics, metricsRoute } from './metrics.js';
import { type HubPrekeyOptions, HubPrekeys } from './prekeys.js';
import { RecordReader } from './reader.js';
import { recordedMessage } from './record.js';
import { type Deadlines, Recorder } from './recorder.js';
import { trimRecord } from './retention.js';
import { recordRoutes } from './routes.js';
import type { HubStore } from './store.js';

export interface HubOptions {
  readonly host: string;
  readonly port: number;
  readonly audience: string;
  readonly consumer: string;
  readonly deadlines: Deadlines;
  /** How long the record keeps an entry (ms). */
  readonly retentionMs: number;
  /** How often the hub signs a checkpoint of its record when it has grown (ms; default 60 s). */
  readonly checkpointEveryMs?: number;
  /** Origins of web Consoles allowed to call the record API (CORS), e.g. the gateway's. */
  readonly consoleOrigins?: readonly string[];
}

/**
 * What the hub shares with the gateways: it reads the directory log, guards token replay, talks,
 * publishes its prekeys and reads attachment blobs for analysts.
 */
export type HubEngine = Pick<
  Engine,
  'directoryLog' | 'replayGuard' | 'pubsub' | 'prekeys' | 'blobs' | 'ping'
>;

export interface Hub {
  readonly url: string;
  readonly recorder: Recorder;
  readonly escalator: Escalator;
  close(): Promise<void>;
}

const GROUP = 'hub';
/** The hub republishes its prekeys and retires old ones this often (they change once a day). */
const PREKEY_UPKEEP_EVERY_MS = 10 * 60_000;
/** With an archive key, how long after its end the hub host keeps a prekey (PROTOCOL.md §5.6). */
export const DEFAULT_HUB_PREKEY_WINDOW_MS = 7 * 24 * 3_600_000;
const RETENTION_EVERY_MS = 10_000;

/**
 * Starts a hub replica: it records every accepted envelope (sharing the work with other replicas
 * through a consumer group), escalates overdue alerts, and serves analysts over HTTP and the
 * `/analyst` Socket.IO namespace. The engine's parts give it the directory, token replay
 * protection and pub/sub; the store gives it the stream, the record and the alert book.
 */
export async function startHub(
  options: HubOptions,
  deps: {
    engine: HubEngine;
    store: HubStore;
    /** The current key first, then past ones still kept. */
    hubKeys: DeviceKeys | readonly DeviceKeys[];
    authority: PinnedAuthority;
    logger: Logger;
    /** Where the hub's prekey state is kept and its archive key (default: in memory, no archive). */
    prekeys?: Omit<HubPrekeyOptions, 'windowMs'> & { windowMs?: number };
    /** Connections the hub owns: quit in `onClose`, after everything that uses them stopped. */
    owned?: readonly { close(): Promise<boolean | undefined> }[];
  },
): Promise<Hub> {
  const { engine, store, hubKeys, logger } = deps;
  startOnNativeCrypto(logger);
  // A Redis that evicts keys would lose the record silently: refuse to start on it (UNAVAILABLE).
  await engine.ping();
  engine.pubsub.onHandlerError = (error, channel) =>
    logger.error(
      { err: error, channel: channel.split(':')[0] },
      'a channel message handler failed',
    );
  const sync = new DirectorySync(engine.directoryLog, engine.pubsub, deps.authority);
  await sync.start();
  await store.stream.ensureGroup(GROUP);
  const directory = () => sync.directory;
  const signingKeys = Array.isArray(hubKeys) ? (hubKeys[0] as DeviceKeys) : (hubKeys as DeviceKeys);
  const prekeys = new HubPrekeys(
    signingKeys,
    { windowMs: DEFAULT_HUB_PREKEY_WINDOW_MS, ...deps.prekeys },
    options.retentionMs,
  );
  if (!deps.prekeys?.archivePublicKey) {
    logger.warn(
      'no archive key (HUB_ARCHIVE_PUBLIC_KEY_FILE): the hub keeps its prekeys for the whole record retention, so a stolen hub host opens the whole record',
    );
  }
  const prekeyUpkeep = async () => {
    await prekeys.publish(engine.prekeys, Date.now());
    await prekeys.retire(store.prekeyArchive, Date.now());
  };
  await prekeyUpkeep();
  const reader = new RecordReader(store.record, hubKeys, directory, prekeys.store);
  const metrics = createHubMetrics();

  const recorder = new Recorder({
    store,
    directory,
    hubKeys,
    prekeys: prekeys.store,
    deadlines: options.deadlines,
    group: GROUP,
    consumer: options.consumer,
    refresh: () => sync.refresh(),
    // An outage is one error line, then a reminder every 30 attempts (about 30 s), not a line a
    // second; each attempt is at debug level.
    onError: (error, failures) => {
      if (failures === 1) logger.error({ err: error }, 'recording failed; retrying every second');
      else if (failures % 30 === 0)
        logger.warn({ err: error, failures }, 'recording still failing');
      logger.debug({ failures }, 'recording attempt failed');
    },
    onResumed: (failures) => logger.info({ failures }, 'recording resumed'),
    onRecorded: (stored) => {
      metrics.recorded.inc(stored.length);
      // One message per batch (recordedMessage): every replica's feed reads every entry.
      void engine.pubsub.publish(channels.recorded, recordedMessage(stored)).catch(() => undefined);
    },
  });
  const escalator = new Escalator(
    store.alerts,
    async (escalation: FeedEscalation) => {
      logger.warn(
        { alert: escalation.alertId, precedence: escalation.precedence, from: escalation.from },
        'alert escalated',
      );
      const message = JSON.stringify(escalation);
      await engine.pubsub.publish(channels.office(escalation.from), message);
      await engine.pubsub.publish(channels.escalations, message);
    },
    (error) => logger.error({ err: error }, 'escalation failed'),
    () => store.stream.frontier(GROUP),
  );
  const analyst = (token: string | undefined) =>
    authenticate(token, {
      role: 'analyst',
      audience: options.audience,
      directory: sync.directory,
      replayGuard: engine.replayGuard,
    });

  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // Plugins start in well under a second; a machine busy with other work may need far longer,
    // and a start that merely takes long must not fail.
    pluginTimeout: PLUGIN_TIMEOUT_MS,
  }) as unknown as FastifyInstance;
  await allowConsole(app, options.consoleOrigins ?? []);
  answerErrorsOnTheWire(app);
  // Checkpoints: the record's head signed with the hub's own key, which Redis never holds.
  const checkpointNow = async () => {
    const checkpoint = await signCheckpoint(signingKeys, await store.record.head());
    await store.checkpoints.add(checkpoint);
    return checkpoint;
  };
  const checkpointIfGrown = async () => {
    const [head, last] = await Promise.all([store.record.head(), store.checkpoints.last()]);
    const signed = last ? JSON.parse(Buffer.from(last.payload, 'base64url').toString()) : undefined;
    if (signed?.seq !== head.seq || signed?.hash !== head.hash) await checkpointNow();
  };
  const checkpoints = setInterval(() => {
    checkpointIfGrown().catch((error) => logger.error({ err: error }, 'checkpoint failed'));
  }, options.checkpointEveryMs ?? 60_000);
  checkpoints.unref();
  recorder.start();
  escalator.start();
  const retention = setInterval(() => {
    Promise.all([
      trimRecord(store.record, Date.now() - options.retentionMs),
      store.stream.trimStream(GROUP),
    ]).catch((error) => logger.error({ err: error }, 'trimming failed'));
  }, RETENTION_EVERY_MS);
  retention.unref();
  const prekeyTimer = setInterval(() => {
    prekeyUpkeep().catch((error) => logger.error({ err: error }, 'prekey upkeep failed'));
  }, PREKEY_UPKEEP_EVERY_MS);
  prekeyTimer.unref();
  // onClose hooks run last-registered first: this one, registered before the plugins, runs after
  // theirs (the feed leaves its channels), then stops the background work and quits Redis.
  // Each step runs even when one before failed (Redis gone): the connections are closed anyway.
  app.addHook('onClose', async () => {
    escalator.stop();
    clearInterval(retention);
    clearInterval(checkpoints);
    clearInterval(prekeyTimer);
    await recorder.stop();
    await sync
      .stop()
      .catch((error) => logger.warn({ err: error }, 'leaving the directory channel failed'));
    const closed = await Promise.all((deps.owned ?? []).map((connection) => connection.close()));
    if (closed.some((clean) => clean === false))
      logger.warn(
        'Redis did not answer at shutdown: its connections were dropped, not closed cleanly',
      );
  });

  await app.register(recordRoutes, {
    record: store.record,
    ping: () => engine.ping(),
    checkpoints: store.checkpoints,
    checkpointNow,
    retentionMs: options.retentionMs,
    alerts: store.alerts,
    reader,
    sync,
    analyst,
    archive: store.prekeyArchive,
  });
  await app.register(metricsRoute, {
    metrics,
    record: store.record,
    stream: store.stream,
    group: GROUP,
  });
  await app.register(liveFeed, {
    reader,
    sync,
    pubsub: engine.pubsub,
    analyst,
    alerts: store.alerts,
    blobs: engine.blobs,
  });

  await app.listen({ host: options.host, port: options.port });
  const { port } = app.server.address() as AddressInfo;
  const url = `http://${options.host}:${port}`;
  logger.info({ url, consumer: options.consumer }, 'hub listening');
  return { url, recorder, escalator, close: () => app.close() };
}
