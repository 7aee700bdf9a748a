import type { FastifyPluginAsync } from 'fastify';
import { PROBE_ROUTE } from '../runtime/logger.js';
import { metricSet, scrape } from '../runtime/metrics.js';
import type { RecordLog } from './record-log.js';
import type { StreamConsumer } from './stream-consumer.js';

/** The hub's Prometheus metrics: how far behind the record runs. Content never appears here. */
export function createHubMetrics() {
  const m = metricSet('liaison_hub_');
  return {
    registry: m.registry,
    recorded: m.counter('liaison_hub_recorded_total', 'Entries this replica appended'),
    lagSeconds: m.gauge(
      'liaison_hub_lag_seconds',
      'Age of the oldest accepted envelope not yet recorded (0 when up to date)',
    ),
    recordLength: m.gauge('liaison_hub_record_entries', 'Entries kept in the record'),
  };
}

export type HubMetrics = ReturnType<typeof createHubMetrics>;

/** `GET /metrics`: the gauges are read from Redis at scrape time. */
export const metricsRoute: FastifyPluginAsync<{
  metrics: HubMetrics;
  record: RecordLog;
  stream: StreamConsumer;
  group: string;
}> = async (app, { metrics, record, stream, group }) => {
  app.get('/metrics', PROBE_ROUTE, async (_request, reply) => {
    const frontier = await stream.frontier(group);
    metrics.lagSeconds.set(
      frontier === undefined ? 0 : Math.max(0, (Date.now() - frontier) / 1000),
    );
    metrics.recordLength.set(await record.length());
    return scrape(metrics.registry, reply);
  });
};
