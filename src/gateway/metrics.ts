import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** The gateway's Prometheus metrics, one registry per gateway instance. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'liaison_' });
  return {
    registry,
    connections: new Gauge({
      name: 'liaison_connections',
      help: 'Authenticated device connections on this instance',
      registers: [registry],
    }),
    accepted: new Counter({
      name: 'liaison_envelopes_accepted_total',
      help: 'Envelopes accepted (stored), duplicates excluded',
      labelNames: ['kind'],
      registers: [registry],
    }),
    delivered: new Counter({
      name: 'liaison_envelopes_delivered_total',
      help: 'Inbox items acknowledged by their device',
      registers: [registry],
    }),
    refused: new Counter({
      name: 'liaison_refused_total',
      help: 'Requests and connections refused, by error code',
      labelNames: ['code'],
      registers: [registry],
    }),
    sendSeconds: new Histogram({
      name: 'liaison_send_duration_seconds',
      help: 'From envelope:send received to its ack',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
    pendingTotal: new Gauge({
      name: 'liaison_inbox_pending',
      help: 'Items waiting in the inboxes of devices connected to this instance (at scrape)',
      registers: [registry],
    }),
    pendingMax: new Gauge({
      name: 'liaison_inbox_pending_max',
      help: 'Deepest inbox among devices connected to this instance (at scrape)',
      registers: [registry],
    }),
    fetchedItems: new Histogram({
      name: 'liaison_inbox_fetch_items',
      help: 'Items returned per inbox:fetch (backlog a device catches up on)',
      buckets: [0, 1, 10, 50, 100, 250, 500],
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
