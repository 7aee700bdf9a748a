import type { BlobStore } from './blob-store.js';
import type { CheckpointBoard } from './checkpoint-board.js';
import type { Counters } from './counters.js';
import type { DirectoryLog } from './directory-log.js';
import type { Inboxes } from './inboxes.js';
import type { PrekeyBoard } from './prekey-board.js';
import type { Presence } from './presence.js';
import type { PubSub } from './pubsub.js';
import type { ReplayGuard } from './replay-guard.js';

/**
 * Everything a gateway shares with its siblings, as narrow parts: durable inboxes with idempotent
 * acceptance, the directory log, the token replay guard, rate counters, presence, pub/sub, the
 * board of the hub's record checkpoints, the board of signed prekeys and the attachment blobs.
 * Each part has an in-memory and a Redis implementation with one contract (the same tests run
 * against both); a server takes only the parts it uses (the hub: directory log, replay guard,
 * pub/sub). `MemoryEngine` is one process (the quick start), `RedisEngine` several instances.
 */
export interface Engine {
  readonly kind: 'memory' | 'redis';
  readonly inboxes: Inboxes;
  readonly directoryLog: DirectoryLog;
  readonly replayGuard: ReplayGuard;
  readonly counters: Counters;
  readonly presence: Presence;
  readonly pubsub: PubSub;
  readonly checkpoints: CheckpointBoard;
  readonly prekeys: PrekeyBoard;
  readonly blobs: BlobStore;
  /** Throws when the engine cannot serve (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
