import type { FastifyInstance } from 'fastify';
import {
  DirectoryQuery,
  SubmitHeadRequest,
  SubmitStatementsRequest,
} from '../../protocol/v1/http.js';
import type { Engine } from '../engine/engine.js';
import type { DirectorySync } from '../runtime/directory-sync.js';
import { answerErrorsOnTheWire } from '../runtime/http-errors.js';
import { PROBE_ROUTE } from '../runtime/logger.js';
import { scrape } from '../runtime/metrics.js';
import { parse } from '../runtime/wire.js';
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

  answerErrorsOnTheWire(app, {
    onRefused: (code) => metrics.refused.inc({ code }),
    notFound: true,
  });

  app.get('/v1/directory', async (request) => {
    const query = parse(DirectoryQuery, request.query);
    await sync.refresh();
    const { directory } = sync;
    const after = Math.min(query.after, directory.version);
    return {
      authority: directory.authority.keyId,
      version: directory.version,
      statements: directory
        .statements(after)
        .map((statement, i) => ({ version: after + i + 1, statement })),
      ...(sync.head ? { head: sync.head } : {}),
    };
  });

  app.post('/v1/directory/head', async (request) => {
    const body = parse(SubmitHeadRequest, request.body);
    return { version: await sync.submitHead(body.head) };
  });

  app.post('/v1/directory/statements', async (request) => {
    const body = parse(SubmitStatementsRequest, request.body);
    return { version: await sync.submit(body.statements) };
  });

  app.get('/healthz', PROBE_ROUTE, async () => ({ status: 'ok' }));

  app.get('/readyz', PROBE_ROUTE, async (_request, reply) => {
    if (deps.isClosing()) return reply.status(503).send({ status: 'shutting down' });
    try {
      await engine.ping();
      return { status: 'ready', engine: engine.kind, directoryVersion: sync.directory.version };
    } catch {
      return reply.status(503).send({ status: 'engine unreachable', engine: engine.kind });
    }
  });

  app.get('/metrics', PROBE_ROUTE, async (_request, reply) => {
    const depths = await Promise.all(
      [...deps.localDevices()].map((d) => engine.inboxes.pending(d)),
    );
    metrics.pendingTotal.set(depths.reduce((sum, n) => sum + n, 0));
    metrics.pendingMax.set(Math.max(0, ...depths));
    return scrape(metrics.registry, reply);
  });
}
