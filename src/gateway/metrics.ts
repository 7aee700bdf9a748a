import { metricSet } from '../runtime/metrics.js';

/** The gateway's Prometheus metrics, one registry per gateway instance. */
export function createMetrics() {
  const m = metricSet('liaison_');
  return {
    registry: m.registry,
    connections: m.gauge(
      'liaison_connections',
      'Authenticated device connections on this instance',
    ),
    accepted: m.counter(
      'liaison_envelopes_accepted_total',
      'Envelopes accepted (stored), duplicates excluded',
      ['kind'],
    ),
    delivered: m.counter(
      'liaison_envelopes_delivered_total',
      'Inbox items acknowledged by their device',
    ),
    refused: m.counter('liaison_refused_total', 'Requests and connections refused, by error code', [
      'code',
    ]),
    sendSeconds: m.histogram(
      'liaison_send_duration_seconds',
      'From envelope:send received to its ack',
      [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    ),
    lateAnswers: m.counter(
      'liaison_send_late_answers_total',
      'Sends whose store step did not answer in time, by how they were answered: accepted (from the acceptance record) or unknown (UNAVAILABLE, stored unknown); a sign of an overloaded gateway or a stalled Redis',
      ['outcome'],
    ),
    pendingTotal: m.gauge(
      'liaison_inbox_pending',
      'Items waiting in the inboxes of devices connected to this instance (at scrape)',
    ),
    pendingMax: m.gauge(
      'liaison_inbox_pending_max',
      'Deepest inbox among devices connected to this instance (at scrape)',
    ),
    slowConsumers: m.counter(
      'liaison_slow_consumers_cut_total',
      'Sockets cut because their reader let too many bytes pile up (SLOW_CONSUMER)',
    ),
    outboundPeak: m.peak(
      'liaison_outbound_buffered_bytes_peak',
      'Most bytes seen waiting to be written to one socket since start',
    ),
    lostItems: m.counter(
      'liaison_inbox_lost_total',
      'Inbox entries fetched whose envelope the store no longer held (ENVELOPE_LOST): Redis lost or was given data',
    ),
    blobBytes: m.counter(
      'liaison_blob_bytes_total',
      'Attachment ciphertext bytes stored (in) and served (out) by this instance',
      ['direction'],
    ),
    droppedMessages: m.counter(
      'liaison_channel_messages_dropped_total',
      'Messages on a device or office channel that make no valid event (dropped): someone other than the gateways and the hub writes to Redis',
    ),
    fetchedItems: m.histogram(
      'liaison_inbox_fetch_items',
      'Items returned per inbox:fetch (backlog a device catches up on)',
      [0, 1, 10, 50, 100, 250, 500],
    ),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
