import { Signed } from '../../protocol/v1/certificate.js';
import type { RecordCheckpointPayload } from '../../protocol/v1/checkpoint.js';
import { verifyCheckpoint } from '../directory/checkpoint.js';
import type { Directory } from '../directory/directory.js';
import { RedisCheckpointBoard } from '../engine/redis/checkpoint-board.js';
import type { RedisConnection } from '../engine/redis/connection.js';
import { LiaisonError } from '../errors.js';
import { type ChainReport, parseEntry, verifyChain } from './record.js';
import type { RecordLog } from './record-log.js';

/** Checkpoints kept in Redis; older ones live on in the files analysts export. */
const KEPT = 1_000;
/** Slack before a dropped entry counts as dropped within retention (a backlog recorded late). */
const RETENTION_SLACK_MS = 24 * 3_600_000;

/** The checkpoints the hub keeps beside its record, on the board gateways read from. */
export class CheckpointLog {
  private readonly board: RedisCheckpointBoard;

  constructor(connection: RedisConnection) {
    this.board = new RedisCheckpointBoard(connection);
  }

  async add(checkpoint: Signed): Promise<void> {
    await this.board.post(JSON.stringify(checkpoint), KEPT);
  }

  /** What Redis holds; entries that are not even JSON are returned as they are, to be refused. */
  async all(): Promise<unknown[]> {
    const texts = await this.board.all();
    return texts.map((text) => {
      try {
        return JSON.parse(text);
      } catch {
        return text;
      }
    });
  }

  async last(): Promise<Signed | undefined> {
    const text = await this.board.latest();
    return text === undefined ? undefined : (JSON.parse(text) as Signed);
  }
}

export interface CheckpointReport {
  readonly ok: boolean;
  readonly checked: number;
  /** The first checkpoint the record contradicts, and how. */
  readonly broken?: { seq: number; at: number; reason: string };
}

/**
 * Checks a record (its kept entries, base and head) against signed checkpoints: every entry a
 * checkpoint names must still carry the hash it had then, the record must reach every
 * checkpoint, and entries may be missing below one only when retention dropped them.
 */
export function checkAgainstCheckpoints(
  record: {
    entries: readonly string[];
    base: { seq: number; hash: string };
    head: { seq: number; hash: string };
  },
  checkpoints: readonly RecordCheckpointPayload[],
  options: { now: number; retentionMs: number },
): CheckpointReport {
  const hashAt = new Map<number, string>([[record.base.seq, record.base.hash]]);
  for (const stored of record.entries) {
    const { hash, body } = parseEntry(stored);
    hashAt.set(body.seq, hash);
  }
  const ordered = [...checkpoints].sort((a, b) => a.seq - b.seq || a.at - b.at);
  for (const cp of ordered) {
    const broken = (reason: string) => ({
      ok: false,
      checked: ordered.length,
      broken: { seq: cp.seq, at: cp.at, reason },
    });
    if (cp.seq > record.head.seq) {
      return broken(`the record ends at seq ${record.head.seq}, before a checkpoint (truncated)`);
    }
    if (cp.seq >= record.base.seq) {
      if (hashAt.get(cp.seq) !== cp.hash) {
        return broken(`entry ${cp.seq} is not the one the hub signed (rewritten)`);
      }
      continue;
    }
    // Below the base: retention dropped it, unless the entries after it were still too young.
    if (cp.at > options.now - options.retentionMs + RETENTION_SLACK_MS) {
      return broken(`entries after seq ${cp.seq} were dropped within the retention period`);
    }
  }
  return { ok: true, checked: ordered.length };
}

export interface RecordVerification extends ChainReport {
  readonly checkpoints: CheckpointReport & {
    /** Checkpoints that did not verify (unsigned, or not by a usable hub key): not relied on. */
    readonly refused: number;
  };
}

/**
 * Verifies the whole record: its hash chain from the base to the head, then the chain against
 * every checkpoint that verifies — those Redis holds and any the caller brings (exported files,
 * which must all verify). `ok` only when both hold.
 */
export async function verifyRecord(
  record: RecordLog,
  stored: readonly unknown[],
  options: {
    /** Where the hub's certified keys come from; needed only when there are checkpoints. */
    directory?: Directory;
    now: number;
    retentionMs: number;
    /** Checkpoints kept outside Redis: one that does not verify fails the check. */
    exported?: readonly unknown[];
  },
): Promise<RecordVerification> {
  const entries = await record.allEntries();
  const [base, head] = await Promise.all([record.base(), record.head()]);
  const chain = verifyChain(entries, base, head);
  const good: RecordCheckpointPayload[] = [];
  let refused = 0;
  const take = (candidate: unknown, mustVerify: boolean) => {
    try {
      if (!options.directory)
        throw new LiaisonError('CHECKPOINT_INVALID', 'no directory to check it');
      good.push(verifyCheckpoint(Signed.parse(candidate), options.directory));
    } catch (error) {
      if (mustVerify)
        throw error instanceof LiaisonError ? error : new LiaisonError('CHECKPOINT_INVALID');
      refused++;
    }
  };
  for (const candidate of stored) take(candidate, false);
  for (const candidate of options.exported ?? []) take(candidate, true);
  const report = checkAgainstCheckpoints({ entries, base, head }, good, options);
  return { ...chain, ok: chain.ok && report.ok, checkpoints: { ...report, refused } };
}
