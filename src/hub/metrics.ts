import type { FastifyPluginAsync } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { RecordLog } from './record-log.js';
import type { StreamConsumer } from './stream-consumer.js';

/** The hub's Prometheus metrics: how far behind the record runs. Content never appears here. */
export function createHubMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'liaison_hub_' });
  return {
    registry,
    recorded: new Counter({
      name: 'liaison_hub_recorded_total',
      help: 'Entries this replica appended',
      registers: [registry],
    }),
    lagSeconds: new Gauge({
      name: 'liaison_hub_lag_seconds',
      help: 'Age of the oldest accepted envelope not yet recorded (0 when up to date)',
      registers: [registry],
    }),
    recordLength: new Gauge({
      name: 'liaison_hub_record_entries',
      help: 'Entries kept in the record',
      registers: [registry],
    }),
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
  app.get('/metrics', async (_request, reply) => {
    const frontier = await stream.frontier(group);
    metrics.lagSeconds.set(
      frontier === undefined ? 0 : Math.max(0, (Date.now() - frontier) / 1000),
    );
    metrics.recordLength.set(await record.length());
    void reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
};
