import type { Signed } from '../../protocol/v1/certificate.js';
import { HUB_OFFICE_ID } from '../../protocol/v1/primitives.js';
import type {
  DeviceRevoked,
  DirectoryHeadPayload,
  StatementPayload,
} from '../../protocol/v1/statement.js';
import {
  type Certificate,
  checkValidity,
  type PinnedAuthority,
  verifyCertificate,
} from '../crypto/certificate.js';
import { toBase64Url } from '../crypto/sodium.js';
import {
  EMPTY_LOG,
  type LogPosition,
  verifyDirectoryHead,
  verifyStatement,
} from '../crypto/statement.js';
import { LiaisonError } from '../errors.js';
import { HashLog } from './hash-log.js';
import { KeptCertificates } from './kept-certificates.js';
import { claimedPosition, type PreparedStatement, prepare } from './prepared.js';
import { StatementIds } from './statement-ids.js';

export interface Office {
  readonly officeId: string;
  readonly country: string;
  readonly name: string;
  readonly bcp: string;
}

/** One certified key of a device and what has happened to it since. */
interface KeyRecord {
  readonly certificate: Certificate;
  /** Envelopes created at or after this time may not use the key (it was rotated out). */
  rotatedAt?: number;
  /** Revoked: untrusted from this time on (-Infinity: for all time). */
  revokedFrom?: number;
}

interface DeviceRecord {
  readonly deviceId: string;
  readonly officeId: string;
  /** Few a device (one per rotation): a list costs less than a map. */
  readonly keys: KeyRecord[];
  currentKeyId: string;
  /** The whole device is revoked from this time on (-Infinity: for all time). */
  revokedFrom?: number;
}

/** When a revocation takes effect: its compromise time, or by its reason. */
const revokedFrom = (statement: DeviceRevoked): number =>
  statement.compromisedAt ??
  (statement.reason === 'decommissioned' || statement.reason === 'superseded'
    ? statement.issuedAt
    : Number.NEGATIVE_INFINITY);

/** A device key as a sender needs it to wrap a content key. */
export interface RecipientKey {
  readonly deviceId: string;
  readonly keyId: string;
  readonly encryptionPublicKey: Uint8Array;
}

const keyOf = (device: DeviceRecord | undefined, keyId: string) =>
  device?.keys.find((key) => key.certificate.keyId === keyId);

/** How far `fresh` got through a batch given in parts. */
export interface FreshCursor {
  at: LogPosition;
  readonly seen: HashLog;
}

export interface DirectoryOptions {
  /**
   * Whether `statements()` can answer: clients keep the signed statements; a server that has
   * them in the shared log (DirectorySync) does not, which is most of a large directory's memory.
   */
  readonly keepStatements?: boolean;
}

/** How far in the future a directory head's issue time may lie (clocks drift). */
const MAX_HEAD_CLOCK_SKEW_MS = 5 * 60 * 1000;

/** What applying a statement verified: its hash, payload and the certificate it carries. */
export interface Applied {
  readonly hash: string;
  readonly statement: StatementPayload;
  readonly certificate?: Certificate;
}

const linkKey = (a: string, b: string) => (a < b ? `${a} ${b}` : `${b} ${a}`);

/**
 * The directory as one endpoint sees it: built only from statements signed by the pinned
 * authority, so whoever serves the statements (the gateway) cannot add or swap a key. Clients,
 * the gateway and the hub all answer "who is this key?" and "may these offices talk?" from it.
 */
export class Directory {
  readonly authority: PinnedAuthority;
  private readonly offices = new Map<string, Office>();
  /** Per link, the periods it existed: [created, removed) by the statements' issuedAt. */
  private readonly links = new Map<string, { since: number; until?: number }[]>();
  private readonly devices = new Map<string, DeviceRecord>();
  /** Indexes, so the relay's per-envelope lookups cost the same with 10 offices or 10,000. */
  private readonly devicesOfOffice = new Map<string, DeviceRecord[]>();
  private readonly linksOfOffice = new Map<string, Set<string>>();
  /** Statement ids applied: an id is used once in the whole log. */
  private statementIds = new StatementIds();
  /** The statements applied, when kept (DirectoryOptions). */
  private readonly log: Signed[] | undefined;
  /** Hash of every statement, by position (index 0 is seq 1), and as a set. */
  private hashes = new HashLog();
  /** The head's hash as text, asked for by every statement applied. */
  private headHash = EMPTY_LOG.hash;
  private readonly kept: KeptCertificates;

  constructor(authority: PinnedAuthority, options: DirectoryOptions = {}) {
    this.authority = authority;
    if (options.keepStatements !== false) this.log = [];
    this.kept = new KeptCertificates();
  }

  /** Number of statements applied: the directory's version. */
  get version(): number {
    return this.hashes.length;
  }

  /** Where the log ends: the version and the hash of the last statement. */
  get head(): LogPosition {
    return this.hashes.length === 0
      ? EMPTY_LOG
      : { version: this.hashes.length, hash: this.headHash };
  }

  /** The log position at an earlier version (to compare with a head naming that version). */
  positionAt(version: number): LogPosition | undefined {
    if (version === 0) return EMPTY_LOG;
    const hash = this.hashes.at(version - 1);
    return hash === undefined ? undefined : { version, hash };
  }

  /**
   * The statements applied, in order (what a client shows). A directory that does not keep them
   * (a server's: they are in the shared log) throws a TypeError.
   */
  statements(after = 0): readonly Signed[] {
    if (!this.log) throw new TypeError('this directory does not keep its statements');
    return this.log.slice(after);
  }

  /**
   * Verifies a statement and applies it as the next entry of the log. Returns false when that
   * very statement is already in the log (a repeat); throws a LiaisonError when it is not signed
   * by the authority, does not follow the log (STATEMENT_OUT_OF_ORDER: another statement holds
   * its seq, or it skips one, or its prev is not the hash before it), or contradicts the directory.
   */
  apply(signed: Signed): boolean {
    return this.applyVerified(signed) !== undefined;
  }

  /**
   * apply, returning what it verified (undefined for a repeat): nobody need verify it again.
   * `prepared` (from `fresh` or `prepare`) spares decoding the statement again.
   */
  applyVerified(signed: Signed, prepared?: PreparedStatement): Applied | undefined {
    const ready = prepared?.signed === signed ? prepared : prepare(signed);
    const vetted = this.vet(ready);
    if (!vetted) return undefined;
    this.record(vetted.statement, vetted.certificate);
    this.statementIds.add(vetted.statement.id);
    this.log?.push(signed);
    this.hashes.push(ready.digest as Uint8Array);
    this.headHash = vetted.hash;
    return vetted;
  }

  /**
   * Throws STATEMENT_OUT_OF_ORDER unless the batch's new statements (repeats left out) follow
   * this log one after another; reads their claimed places only, so garbage costs no signature
   * check. Returns those new statements, in order, decoded for applying them. A batch given in
   * parts passes the same `cursor` (from `freshCursor`) with each part, in order.
   */
  fresh(batch: readonly Signed[], cursor = this.freshCursor()): PreparedStatement[] {
    const fresh: PreparedStatement[] = [];
    for (const signed of batch) {
      const prepared = prepare(signed);
      const { digest } = prepared;
      if (!digest) throw new LiaisonError('STATEMENT_INVALID', 'payload is not base64url');
      if (this.hashes.has(digest) || cursor.seen.has(digest)) continue;
      const { seq, prev } = claimedPosition(prepared);
      const { at } = cursor;
      if (seq !== at.version + 1 || prev !== at.hash) {
        throw new LiaisonError('STATEMENT_OUT_OF_ORDER', 'statement does not follow the log', {
          seq: typeof seq === 'number' ? seq : null,
          version: at.version,
        });
      }
      cursor.seen.push(digest);
      fresh.push(prepared);
      cursor.at = { version: at.version + 1, hash: toBase64Url(digest) };
    }
    return fresh;
  }

  /** Where `fresh` starts: the head, nothing seen yet. */
  freshCursor(): FreshCursor {
    return { at: this.head, seen: new HashLog() };
  }

  /** Every check of apply; undefined for a repeat. */
  private vet(prepared: PreparedStatement): Applied | undefined {
    // A statement already in the log has the same bytes as one verified before: no signature
    // check needed to recognise a repeat (replays cost a hash, not a verification).
    const { signed, digest } = prepared;
    if (!digest) throw new LiaisonError('STATEMENT_INVALID', 'payload is not base64url');
    if (this.hashes.has(digest)) return undefined;
    const hash = toBase64Url(digest);
    const statement = verifyStatement(signed, this.authority, prepared.decoded);
    if (statement.seq <= this.version) {
      throw new LiaisonError('STATEMENT_OUT_OF_ORDER', 'another statement holds this seq', {
        seq: statement.seq,
      });
    }
    const head = this.head;
    if (statement.seq !== head.version + 1 || statement.prev !== head.hash) {
      throw new LiaisonError('STATEMENT_OUT_OF_ORDER', 'statement does not follow the log', {
        seq: statement.seq,
        version: head.version,
      });
    }
    if (this.statementIds.has(statement.id))
      throw new LiaisonError('STATEMENT_CONFLICT', 'statement id reused');
    const certificate = this.check(statement, prepared);
    return { hash, statement, ...(certificate ? { certificate } : {}) };
  }

  /**
   * An independent copy of this directory, to try statements on without touching it; nothing is
   * verified again. Costs a copy of the records, not a signature check per statement.
   */
  fork(): Directory {
    const copy = new Directory(this.authority, { keepStatements: this.log !== undefined });
    for (const [id, office] of this.offices) copy.offices.set(id, office);
    for (const [key, periods] of this.links)
      copy.links.set(
        key,
        periods.map((p) => ({ ...p })),
      );
    for (const [id, device] of this.devices) {
      const keys = device.keys.map((key) => ({ ...key }));
      const twin: DeviceRecord = { ...device, keys };
      copy.devices.set(id, twin);
      copy.devicesOf(twin.officeId).push(twin);
    }
    for (const [office, others] of this.linksOfOffice)
      copy.linksOfOffice.set(office, new Set(others));
    copy.statementIds = this.statementIds.copy();
    // One at a time: spreading 200,000 arguments overflows the stack.
    if (this.log) for (const signed of this.log) copy.log?.push(signed);
    copy.hashes = this.hashes.copy();
    copy.headHash = this.headHash;
    return copy;
  }

  private devicesOf(officeId: string): DeviceRecord[] {
    let list = this.devicesOfOffice.get(officeId);
    if (!list) {
      list = [];
      this.devicesOfOffice.set(officeId, list);
    }
    return list;
  }

  /**
   * Checks a signed directory head against this directory at `now`: signed by the pinned
   * authority, not expired, and naming a statement of this log by its hash (statements after it
   * are signed by the authority too, and welcome). Returns its content. A head of a later
   * version means statements are missing here: withheld, or not fetched yet.
   */
  checkHead(signed: Signed, now: number): DirectoryHeadPayload {
    const head = this.matchHead(signed);
    if (head.expiresAt <= now) {
      throw new LiaisonError('DIRECTORY_HEAD_EXPIRED', undefined, { expiresAt: head.expiresAt });
    }
    if (head.issuedAt > now + MAX_HEAD_CLOCK_SKEW_MS) {
      throw new LiaisonError('DIRECTORY_HEAD_INVALID', 'directory head issued in the future');
    }
    return head;
  }

  /** checkHead without the clock: signed by the authority and naming a statement of this log. */
  matchHead(signed: Signed): DirectoryHeadPayload {
    const head = verifyDirectoryHead(signed, this.authority);
    const ours = this.positionAt(head.version);
    if (ours === undefined) {
      throw new LiaisonError('DIRECTORY_HEAD_INVALID', 'statements up to the head are missing', {
        version: this.version,
        head: head.version,
      });
    }
    if (ours.hash !== head.hash) {
      throw new LiaisonError('DIRECTORY_FORK', undefined, { version: head.version });
    }
    return head;
  }

  /** Applies statements in order; stops at the first bad one. */
  applyAll(statements: readonly Signed[]): void {
    for (const statement of statements) this.apply(statement);
  }

  office(officeId: string): Office | undefined {
    return this.offices.get(officeId);
  }

  allOffices(): Office[] {
    return [...this.offices.values()];
  }

  /** Whether the offices are linked now (or, given `at`, were linked at that time). */
  isLinked(a: string, b: string, at?: number): boolean {
    const periods = this.links.get(linkKey(a, b)) ?? [];
    if (at === undefined) return periods.some((p) => p.until === undefined);
    return periods.some((p) => p.since <= at && (p.until === undefined || at < p.until));
  }

  /** Offices linked to `officeId` now. */
  linkedOffices(officeId: string): string[] {
    const candidates = [...(this.linksOfOffice.get(officeId) ?? [])];
    return candidates.filter((other) => this.isLinked(officeId, other)).sort();
  }

  /** The key id a device uses now, if it is enrolled (revoked or not). */
  currentKeyIdOf(deviceId: string): string | undefined {
    return this.devices.get(deviceId)?.currentKeyId;
  }

  /** The certificate of a device key the directory has ever certified, whatever became of it. */
  certificateOf(deviceId: string, keyId: string): Certificate | undefined {
    return keyOf(this.devices.get(deviceId), keyId)?.certificate;
  }

  /**
   * The certificate of a device key if it may be used at time `at`: known, not rotated out before
   * `at`, within its validity period, and not revoked — or revoked from a time after both `at`
   * and `acceptedAt`, the gateway's acceptance time of what is being checked (without one, any
   * revocation counts). Throws the reason otherwise.
   */
  usableKey(deviceId: string, keyId: string, at: number, acceptedAt?: number): Certificate {
    const device = this.devices.get(deviceId);
    const key = keyOf(device, keyId);
    if (!device || !key) throw new LiaisonError('CERT_UNKNOWN', undefined, { deviceId, keyId });
    const from = Math.min(
      device.revokedFrom ?? Number.POSITIVE_INFINITY,
      key.revokedFrom ?? Number.POSITIVE_INFINITY,
    );
    if (
      from !== Number.POSITIVE_INFINITY &&
      !(acceptedAt !== undefined && at < from && acceptedAt < from)
    )
      throw new LiaisonError('CERT_REVOKED', undefined, { deviceId, keyId });
    if (key.rotatedAt !== undefined && at >= key.rotatedAt) {
      throw new LiaisonError('KEY_ROTATED', undefined, { deviceId, keyId });
    }
    checkValidity(key.certificate, at);
    return key.certificate;
  }

  /**
   * The certificate of a key that was a hub key senders had to wrap for at time `at`: certified
   * for the hub, valid then and not yet rotated out; undefined otherwise. Revocation does not
   * matter here: a sender who wrapped for the hub key of the day did right, even if that key was
   * compromised later.
   */
  hubKeyAt(deviceId: string, keyId: string, at: number): Certificate | undefined {
    const key = keyOf(this.devices.get(deviceId), keyId);
    if (key?.certificate.role !== 'hub') return undefined;
    if (key.rotatedAt !== undefined && at >= key.rotatedAt) return undefined;
    const { notBefore, notAfter } = key.certificate;
    return notBefore <= at && at <= notAfter ? key.certificate : undefined;
  }

  /** The current, valid keys of every device of the given offices (the hub when `CARICC`). */
  currentKeys(officeIds: readonly string[], at: number): RecipientKey[] {
    const keys: RecipientKey[] = [];
    const devices = [...new Set(officeIds)].flatMap((o) => this.devicesOfOffice.get(o) ?? []);
    for (const device of devices) {
      if (device.revokedFrom !== undefined) continue;
      const key = keyOf(device, device.currentKeyId);
      if (!key || key.revokedFrom !== undefined || key.certificate.role === 'analyst') continue;
      if (at < key.certificate.notBefore || at > key.certificate.notAfter) continue;
      const { deviceId, keyId, encryptionPublicKey } = key.certificate;
      keys.push({ deviceId, keyId, encryptionPublicKey });
    }
    return keys.sort((x, y) => (x.deviceId < y.deviceId ? -1 : 1));
  }

  /** Everything an envelope to `officeIds` must be wrapped for: their devices and the hub. */
  recipientKeys(officeIds: readonly string[], at: number): RecipientKey[] {
    return this.currentKeys([...officeIds, HUB_OFFICE_ID], at);
  }

  /**
   * Throws STATEMENT_CONFLICT when the statement does not fit the directory as it stands. Returns
   * the verified certificate a statement carries, if any.
   */
  private check(statement: StatementPayload, prepared: PreparedStatement): Certificate | undefined {
    const conflict = (why: string) => new LiaisonError('STATEMENT_CONFLICT', why);
    switch (statement.kind) {
      case 'office.registered': {
        if (this.offices.has(statement.officeId)) throw conflict('office already registered');
        const country =
          statement.officeId === HUB_OFFICE_ID ? 'KZ' : statement.officeId.slice(0, 2);
        if (statement.country !== country) throw conflict('country does not match the office id');
        return;
      }
      case 'link.created':
      case 'link.removed': {
        const [a, b] = statement.offices;
        const offices = [this.offices.get(a), this.offices.get(b)];
        if (offices.some((o) => !o || o.officeId === HUB_OFFICE_ID)) {
          throw conflict('a link joins two registered border offices');
        }
        if (offices[0]?.country === offices[1]?.country) throw conflict('a link crosses a border');
        const exists = this.isLinked(a, b);
        if (statement.kind === 'link.created' && exists) throw conflict('link exists');
        if (statement.kind === 'link.removed' && !exists) throw conflict('no such link');
        return;
      }
      case 'device.enrolled': {
        const cert = verifyCertificate(statement.certificate, this.authority, prepared.certificate);
        if (!this.offices.has(cert.officeId)) throw conflict('office not registered');
        if (this.devices.has(cert.deviceId))
          throw conflict('device already enrolled; rotate its key');
        return cert;
      }
      case 'device.key-rotated': {
        const cert = verifyCertificate(statement.certificate, this.authority, prepared.certificate);
        const device = this.devices.get(cert.deviceId);
        if (!device || device.revokedFrom !== undefined)
          throw conflict('no such device, or it is revoked');
        if (device.currentKeyId !== statement.previousKeyId)
          throw conflict('previous key is not current');
        if (keyOf(device, cert.keyId)) throw conflict('key already certified');
        const role = keyOf(device, device.currentKeyId)?.certificate.role;
        if (cert.role !== role) throw conflict('rotation cannot change the role');
        return cert;
      }
      case 'device.revoked': {
        const device = this.devices.get(statement.deviceId);
        if (!device) throw conflict('no such device');
        if (statement.keyId !== undefined && !keyOf(device, statement.keyId)) {
          throw conflict('no such key');
        }
        if (statement.compromisedAt !== undefined && statement.compromisedAt > statement.issuedAt) {
          throw conflict('a key cannot be compromised after its revocation');
        }
        return;
      }
    }
  }

  /** The certificate as kept for good: its office id the office record's own text. */
  private keep(certificate: Certificate): Certificate {
    const office = this.offices.get(certificate.officeId) as Office;
    return this.kept.keep(certificate, office.officeId);
  }

  private record(statement: StatementPayload, certificate: Certificate | undefined): void {
    switch (statement.kind) {
      case 'office.registered': {
        const { officeId, country, name, bcp } = statement;
        this.offices.set(officeId, { officeId, country, name, bcp });
        return;
      }
      case 'link.created': {
        const key = linkKey(...statement.offices);
        this.links.set(key, [...(this.links.get(key) ?? []), { since: statement.issuedAt }]);
        const [a, b] = statement.offices;
        this.linksOfOffice.set(a, (this.linksOfOffice.get(a) ?? new Set()).add(b));
        this.linksOfOffice.set(b, (this.linksOfOffice.get(b) ?? new Set()).add(a));
        return;
      }
      case 'link.removed': {
        const open = this.links
          .get(linkKey(...statement.offices))
          ?.find((p) => p.until === undefined);
        if (open) open.until = statement.issuedAt;
        return;
      }
      case 'device.enrolled': {
        if (!certificate) return;
        const kept = this.keep(certificate);
        const device: DeviceRecord = {
          deviceId: kept.deviceId,
          officeId: kept.officeId,
          keys: [{ certificate: kept }],
          currentKeyId: kept.keyId,
        };
        this.devices.set(certificate.deviceId, device);
        // check() refuses a second enrolment of a device, so each is listed once.
        this.devicesOf(device.officeId).push(device);
        return;
      }
      case 'device.key-rotated': {
        if (!certificate) return;
        const device = this.devices.get(certificate.deviceId) as DeviceRecord;
        const previous = keyOf(device, statement.previousKeyId) as KeyRecord;
        previous.rotatedAt = statement.issuedAt;
        const kept = this.keep(certificate);
        device.keys.push({ certificate: kept });
        device.currentKeyId = kept.keyId;
        return;
      }
      case 'device.revoked': {
        const device = this.devices.get(statement.deviceId) as DeviceRecord;
        const target =
          statement.keyId === undefined ? device : (keyOf(device, statement.keyId) as KeyRecord);
        // A second revocation can only move the time earlier.
        target.revokedFrom = Math.min(
          target.revokedFrom ?? Number.POSITIVE_INFINITY,
          revokedFrom(statement),
        );
        return;
      }
    }
  }
}
