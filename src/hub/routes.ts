import type { FastifyPluginAsync } from 'fastify';
import { RecordFilter, RecordPaging, StatsQuery } from '../../protocol/v1/analyst.js';
import type { Signed } from '../../protocol/v1/certificate.js';
import { KeyId } from '../../protocol/v1/primitives.js';
import { toBase64Url } from '../crypto/sodium.js';
import { LiaisonError } from '../errors.js';
import type { Session } from '../runtime/auth.js';
import { bearer } from '../runtime/auth.js';
import type { DirectorySync } from '../runtime/directory-sync.js';
import { PROBE_ROUTE } from '../runtime/logger.js';
import { asLiaisonError, parse } from '../runtime/wire.js';
import type { AlertBook } from './alert-book.js';
import { type CheckpointLog, verifyRecord } from './checkpoints.js';
import type { PrekeyArchive } from './prekey-archive.js';
import type { RecordReader } from './reader.js';
import type { RecordLog } from './record-log.js';
import { computeStatistics } from './stats.js';

export interface RecordRoutesOptions {
  readonly record: RecordLog;
  /** Throws UNAVAILABLE with the reason unless Redis can serve and keep data. */
  readonly ping: () => Promise<void>;
  readonly checkpoints: CheckpointLog;
  /** Signs, keeps and returns a checkpoint of the record as it stands. */
  readonly checkpointNow: () => Promise<Signed>;
  readonly retentionMs: number;
  readonly alerts: AlertBook;
  readonly reader: RecordReader;
  readonly sync: DirectorySync;
  /** The analyst's door: a token for the hub's audience, of an analyst device. */
  readonly analyst: (token: string | undefined) => Promise<Session>;
  /** The hub's retired prekeys, sealed to CARICC's archive key. */
  readonly archive: PrekeyArchive;
}

/** The hub's HTTP side: health, readiness, and the record for analysts (search, verify, stats). */
export const recordRoutes: FastifyPluginAsync<RecordRoutesOptions> = async (app, options) => {
  const { record, alerts, reader, sync } = options;
  const analyst = (authorization: string | undefined) => options.analyst(bearer(authorization));

  app.get('/healthz', PROBE_ROUTE, async () => ({ status: 'ok' }));
  app.get('/readyz', PROBE_ROUTE, async (_request, reply) => {
    try {
      await options.ping();
      return { status: 'ready', recorded: await record.length() };
    } catch (error) {
      // The reason says what to fix: "Redis out of memory", "Redis evicts keys (...)", ...
      const { message, details } = asLiaisonError(error);
      return reply.status(503).send({ status: message, ...details });
    }
  });

  app.get('/v1/record', async (request) => {
    await analyst(request.headers.authorization);
    const { after, limit, ...rest } = request.query as Record<string, string>;
    const paging = parse(RecordPaging, { after, limit });
    const filter = parse(RecordFilter, rest);
    return reader.search(filter, paging.after, paging.limit);
  });
  app.get('/v1/record/verify', async (request) => {
    await analyst(request.headers.authorization);
    return verifyRecord(record, await options.checkpoints.all(), {
      directory: sync.directory,
      now: Date.now(),
      retentionMs: options.retentionMs,
    });
  });
  // Export: a checkpoint signed now, for an analyst to keep outside Redis.
  app.get('/v1/record/checkpoint', async (request) => {
    await analyst(request.headers.authorization);
    return { checkpoint: await options.checkpointNow() };
  });
  // A retired hub prekey's private half, sealed to CARICC's archive key: useless on the hub host.
  app.get('/v1/record/archive/:prekeyId', async (request) => {
    await analyst(request.headers.authorization);
    const prekeyId = parse(KeyId, (request.params as { prekeyId?: string }).prekeyId);
    const sealed = await options.archive.get(prekeyId);
    if (!sealed) throw new LiaisonError('NOT_FOUND', 'no archived prekey of that id');
    return { prekeyId, sealed: toBase64Url(sealed) };
  });
  app.get('/v1/stats', async (request) => {
    await analyst(request.headers.authorization);
    const query = parse(StatsQuery, request.query);
    return computeStatistics(reader, alerts, sync.directory, {
      since: query.since,
      until: query.until ?? Date.now(),
      silentMs: query.silentHours * 3_600_000,
    });
  });
};
