import { MemoryBlobStore } from './blob-store.js';
import { MemoryCheckpointBoard } from './checkpoint-board.js';
import { MemoryCounters } from './counters.js';
import { MemoryDirectoryLog } from './directory-log.js';
import type { Engine } from './engine.js';
import { MemoryInboxes } from './memory-inboxes.js';
import { MemoryPrekeyBoard } from './prekey-board.js';
import { MemoryPresence } from './presence.js';
import { MemoryPubSub } from './pubsub.js';
import { MemoryReplayGuard } from './replay-guard.js';

export interface MemoryEngineOptions {
  /** How long an inbox item and an idempotency record are kept (ms). */
  readonly retentionMs: number;
  readonly clock?: () => number;
  /** Most items one inbox holds (default MAX_INBOX_ITEMS). */
  readonly maxInboxItems?: number;
}

/**
 * The engine in one process: for the quick start and for tests of the contract. Nothing survives
 * a restart; it says so in the gateway's start-up log.
 */
export class MemoryEngine implements Engine {
  readonly kind = 'memory';
  readonly inboxes: MemoryInboxes;
  readonly directoryLog = new MemoryDirectoryLog();
  readonly replayGuard: MemoryReplayGuard;
  readonly counters: MemoryCounters;
  readonly presence: MemoryPresence;
  readonly pubsub = new MemoryPubSub();
  readonly checkpoints = new MemoryCheckpointBoard();
  readonly prekeys = new MemoryPrekeyBoard();
  readonly blobs: MemoryBlobStore;

  constructor(options: MemoryEngineOptions) {
    const clock = options.clock ?? Date.now;
    this.replayGuard = new MemoryReplayGuard(clock);
    this.counters = new MemoryCounters(clock);
    this.presence = new MemoryPresence(clock);
    this.blobs = new MemoryBlobStore(options.retentionMs, clock);
    this.inboxes = new MemoryInboxes({
      retentionMs: options.retentionMs,
      clock,
      counters: this.counters,
      pubsub: this.pubsub,
      ...(options.maxInboxItems ? { maxInboxItems: options.maxInboxItems } : {}),
    });
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    this.pubsub.clear();
  }
}
