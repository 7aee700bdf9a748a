import type { FastifyInstance } from 'fastify';
import { DirectoryQuery, SubmitStatementsRequest } from '../../protocol/v1/http.js';
import type { Engine } from '../engine/engine.js';
import { issuesOf, LiaisonError } from '../errors.js';
import type { DirectorySync } from '../runtime/directory-sync.js';
import type { Metrics } from './metrics.js';

/** The HTTP side of the gateway: the directory, health, readiness and metrics. */
export function registerRoutes(
  app: FastifyInstance,
  deps: {
    sync: DirectorySync;
    engine: Engine;
    metrics: Metrics;
    isClosing: () => boolean;
    /** Devices connected to this instance, for the queue-depth gauges. */
    localDevices: () => Iterable<string>;
  },
) {
  const { sync, engine, metrics } = deps;

  app.setErrorHandler((error, _request, reply) => {
    const liaison =
      error instanceof LiaisonError
        ? error
        : (error as { statusCode?: number }).statusCode === 413
          ? new LiaisonError('PAYLOAD_TOO_LARGE')
          : (error as { statusCode?: number }).statusCode === 400
            ? new LiaisonError('VALIDATION_FAILED', 'the body is not JSON')
            : new LiaisonError('INTERNAL');
    if (liaison.code === 'INTERNAL') app.log.error({ err: error }, 'request failed');
    metrics.refused.inc({ code: liaison.code });
    void reply.status(liaison.status).send({ error: liaison.toWire() });
  });
  app.setNotFoundHandler((_request, reply) => {
    void reply.status(404).send({ error: new LiaisonError('NOT_FOUND').toWire() });
  });

  app.get('/v1/directory', async (request) => {
    const query = DirectoryQuery.safeParse(request.query);
    if (!query.success)
      throw new LiaisonError('VALIDATION_FAILED', undefined, issuesOf(query.error));
    await sync.refresh();
    const { directory } = sync;
    const after = Math.min(query.data.after, directory.version);
    return {
      authority: directory.authority.keyId,
      version: directory.version,
      statements: directory
        .statements(after)
        .map((statement, i) => ({ version: after + i + 1, statement })),
    };
  });

  app.post('/v1/directory/statements', async (request) => {
    const body = SubmitStatementsRequest.safeParse(request.body);
    if (!body.success) throw new LiaisonError('VALIDATION_FAILED', undefined, issuesOf(body.error));
    return { version: await sync.submit(body.data.statements) };
  });

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    if (deps.isClosing()) return reply.status(503).send({ status: 'shutting down' });
    try {
      await engine.ping();
      return { status: 'ready', engine: engine.kind, directoryVersion: sync.directory.version };
    } catch {
      return reply.status(503).send({ status: 'engine unreachable', engine: engine.kind });
    }
  });

  app.get('/metrics', async (_request, reply) => {
    const depths = await Promise.all([...deps.localDevices()].map((d) => engine.pending(d)));
    metrics.pendingTotal.set(depths.reduce((sum, n) => sum + n, 0));
    metrics.pendingMax.set(Math.max(0, ...depths));
    void reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}
