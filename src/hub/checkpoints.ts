import { Signed } from '../../protocol/v1/certificate.js';
import { RecordCheckpointPayload } from '../../protocol/v1/checkpoint.js';
import type { DeviceKeys } from '../crypto/keys.js';
import { openSigned, signObject } from '../crypto/signed.js';
import { ready } from '../crypto/sodium.js';
import type { Directory } from '../directory/directory.js';
import type { RedisConnection } from '../engine/redis/connection.js';
import { LiaisonError } from '../errors.js';
import { type ChainReport, parseEntry, verifyChain } from './record.js';
import type { RecordLog } from './record-log.js';

const DOMAIN = 'liaison/v1/record-checkpoint';
/** Checkpoints kept in Redis; older ones live on in the files analysts export. */
const KEPT = 1_000;
/** Slack before a dropped entry counts as dropped within retention (a backlog recorded late). */
const RETENTION_SLACK_MS = 24 * 3_600_000;

/** The hub signs where its record stands, with its own key (never in Redis). */
export async function signCheckpoint(
  hubKeys: DeviceKeys,
  head: { seq: number; hash: string },
  at: number = Date.now(),
): Promise<Signed> {
  await ready;
  const payload: RecordCheckpointPayload = {
    v: 1,
    type: 'liaison.record-checkpoint',
    hub: hubKeys.deviceId,
    keyId: hubKeys.keyId,
    seq: head.seq,
    hash: head.hash,
    at,
  };
  return signObject(DOMAIN, payload, hubKeys.signingSecretKey);
}

/** Checks a checkpoint's signature against a hub key the directory certified. */
export function verifyCheckpoint(signed: Signed, directory: Directory): RecordCheckpointPayload {
  let claimed: unknown;
  try {
    claimed = JSON.parse(Buffer.from(signed.payload, 'base64url').toString('utf8'));
  } catch {
    throw new LiaisonError('CHECKPOINT_INVALID', 'payload is not JSON');
  }
  const named = RecordCheckpointPayload.safeParse(claimed);
  if (!named.success) throw new LiaisonError('CHECKPOINT_INVALID', 'payload does not match');
  // A hub key usable when it signed: certified, not rotated out, not revoked.
  let certificate: ReturnType<Directory['usableKey']>;
  try {
    certificate = directory.usableKey(named.data.hub, named.data.keyId, named.data.at);
  } catch (error) {
    throw new LiaisonError('CHECKPOINT_INVALID', 'not signed with a usable hub key', {
      reason: error instanceof LiaisonError ? error.code : 'UNKNOWN',
    });
  }
  if (certificate.role !== 'hub') {
    throw new LiaisonError('CHECKPOINT_INVALID', 'not signed with a hub key');
  }
  openSigned(DOMAIN, signed, certificate.signingPublicKey, {
    invalid: 'CHECKPOINT_INVALID',
    untrusted: 'CHECKPOINT_INVALID',
  });
  return named.data;
}

/** The checkpoints the hub keeps beside its record. */
export class CheckpointLog {
  constructor(private readonly connection: RedisConnection) {}

  async add(checkpoint: Signed): Promise<void> {
    const key = this.connection.keys.recordCheckpoints;
    await this.connection.redis
      .multi()
      .rpush(key, JSON.stringify(checkpoint))
      .ltrim(key, -KEPT, -1)
      .exec();
  }

  /** What Redis holds; entries that are not even JSON are returned as they are, to be refused. */
  async all(): Promise<unknown[]> {
    const texts = await this.connection.redis.lrange(this.connection.keys.recordCheckpoints, 0, -1);
    return texts.map((text) => {
      try {
        return JSON.parse(text);
      } catch {
        return text;
      }
    });
  }

  async last(): Promise<Signed | undefined> {
    const [text] = await this.connection.redis.lrange(
      this.connection.keys.recordCheckpoints,
      -1,
      -1,
    );
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
  const seen = record.highestSeen;
  const entries = await record.allEntries();
  const [base, head] = await Promise.all([record.base(), record.head()]);
  const chain: ChainReport =
    head.seq < seen
      ? {
          ok: false,
          entries: entries.length,
          broken: {
            position: entries.length + 1,
            seq: head.seq + 1,
            reason: `the record lost entries: its head is at ${head.seq}, this hub has seen ${seen}`,
          },
        }
      : verifyChain(entries, base, head);
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
