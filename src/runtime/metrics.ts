import type { FastifyReply } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * One server instance's Prometheus registry, with the process's default metrics under `prefix`,
 * and makers for the metrics registered in it.
 * @example const m = metricSet('liaison_hub_'); const lag = m.gauge('liaison_hub_lag_seconds', '...');
 */
export function metricSet(prefix: string) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix });
  const registers = [registry];
  return {
    registry,
    counter: (name: string, help: string, labelNames: string[] = []) =>
      new Counter({ name, help, labelNames, registers }),
    gauge: (name: string, help: string) => new Gauge({ name, help, registers }),
    /** A gauge of the highest value `observe` was given since start (read at scrape). */
    peak: (name: string, help: string) => {
      let highest = 0;
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(highest);
        },
      });
      return {
        observe: (value: number) => {
          if (value > highest) highest = value;
        },
      };
    },
    histogram: (name: string, help: string, buckets: number[]) =>
      new Histogram({ name, help, buckets, registers }),
  };
}

/** Answers a scrape with everything in the registry. */
export function scrape(registry: Registry, reply: FastifyReply): Promise<string> {
  void reply.header('content-type', registry.contentType);
  return registry.metrics();
}
