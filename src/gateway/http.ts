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
import { asLiaisonError, checkDepth, parse } from '../runtime/wire.js';
import { addressRate } from './address-rate.js';
import type { Metrics } from './metrics.js';

/** The largest whole-directory answer kept for the next client (about 10,000 devices). */
const MAX_KEPT_DIRECTORY_CHARS = 32 * 2 ** 20;

/** Directory posts one client address may make per minute (they need no token). */
export const DIRECTORY_POSTS_PER_MINUTE = 30;

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
    /** Directory posts one address may make per minute (default DIRECTORY_POSTS_PER_MINUTE). */
    directoryPostsPerMinute?: number;
  },
) {
  const { sync, engine, metrics } = deps;

  answerErrorsOnTheWire(app, {
    onRefused: (code) => metrics.refused.inc({ code }),
    notFound: true,
  });

  app.addHook('preValidation', async (request) => checkDepth(request.body));

  // The whole directory is the same bytes until it changes: made once per version and head, and
  // kept when small (a 100,000-device directory is ~300 MB of text, read from the log instead).
  let whole: { tag: string; body: string } | undefined;
  app.get('/v1/directory', async (request, reply) => {
    const query = parse(DirectoryQuery, request.query);
    await sync.refresh();
    const { directory } = sync;
    // Names the log's end and the head served: a client that has both gets 304 and no body.
    const tag = `"${directory.head.version}.${directory.head.hash}.${sync.head?.signature ?? '-'}"`;
    void reply.header('etag', tag).header('cache-control', 'no-cache');
    if (request.headers['if-none-match'] === tag) return reply.status(304).send();
    const after = Math.min(query.after, directory.version);
    if (after === 0 && whole?.tag === tag) {
      return reply.type('application/json; charset=utf-8').send(whole.body);
    }
    const { head } = sync;
    const { version } = directory;
    const texts = await sync.statementTexts(after, version);
    // The texts are JSON already: put together as JSON.stringify of the response would.
    const parts = [
      `{"authority":${JSON.stringify(directory.authority.keyId)},"version":${version},"statements":[`,
    ];
    for (let i = 0; i < texts.length; i++) {
      parts.push(`${i === 0 ? '' : ','}{"version":${after + i + 1},"statement":${texts[i]}}`);
    }
    parts.push(head ? `],"head":${JSON.stringify(head)}}` : ']}');
    const body = parts.join('');
    if (after === 0 && body.length <= MAX_KEPT_DIRECTORY_CHARS) whole = { tag, body };
    return reply.type('application/json; charset=utf-8').send(body);
  });

  const posts = addressRate({
    max: deps.directoryPostsPerMinute ?? DIRECTORY_POSTS_PER_MINUTE,
    windowMs: 60_000,
  });
  // Counted on arrival, before the body is even parsed.
  const limited = { onRequest: async (request: { ip: string }) => posts.take(request.ip) };
  app.post('/v1/directory/head', limited, async (request) => {
    const body = parse(SubmitHeadRequest, request.body);
    return { version: await sync.submitHead(body.head) };
  });

  app.post('/v1/directory/statements', limited, async (request) => {
    const body = parse(SubmitStatementsRequest, request.body);
    return { version: await sync.submit(body.statements) };
  });

  app.get('/healthz', PROBE_ROUTE, async () => ({ status: 'ok' }));

  app.get('/readyz', PROBE_ROUTE, async (_request, reply) => {
    if (deps.isClosing()) return reply.status(503).send({ status: 'shutting down' });
    try {
      await engine.ping();
      return { status: 'ready', engine: engine.kind, directoryVersion: sync.directory.version };
    } catch (error) {
      // The reason says what to fix: "Redis out of memory", "Redis evicts keys (...)", ...
      const { message, details } = asLiaisonError(error);
      return reply.status(503).send({ status: message, engine: engine.kind, ...details });
    }
  });

  app.get('/metrics', PROBE_ROUTE, async (_request, reply) => {
    // The inbox gauges need Redis; the rest is this process's own and is served in an outage.
    const depths = await Promise.all(
      [...deps.localDevices()].map((d) => engine.inboxes.pending(d)),
    ).catch(() => undefined);
    if (depths) {
      metrics.pendingTotal.set(depths.reduce((sum, n) => sum + n, 0));
      metrics.pendingMax.set(Math.max(0, ...depths));
    }
    return scrape(metrics.registry, reply);
  });
}
