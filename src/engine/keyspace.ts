/**
 * Every Redis key and pub/sub channel Liaison uses, named in one place. The gateway, the hub and
 * the engine's Redis implementations all take their names from here, so two servers that share a
 * prefix share exactly these keys and nothing else.
 */

/** Pub/sub channels between server instances (the Redis implementations add the prefix). */
export const channels = {
  /** Pushes and receipts for one device, and "a newer connection replaced you". */
  device: (deviceId: string) => `device:${deviceId}`,
  /** Presence of a linked office and escalations of this office's alerts. */
  office: (officeId: string) => `office:${officeId}`,
  /** "The directory log grew": every instance refreshes its copy. */
  directory: 'directory',
  /** A hub replica appended a record entry (the analysts' live feed on every replica). */
  recorded: 'hub:recorded',
  /** A hub replica escalated an overdue alert. */
  escalations: 'hub:escalations',
} as const;

/** The replay guard's claim of a token id, remembered until the token expires. */
export const tokenClaim = (jti: string) => `jti:${jti}`;

/** The rate counter of what `from` sends to `to`. */
export const pairRate = (from: string, to: string) => `rate:${from}>${to}`;

/** The full Redis names under one deployment's prefix. */
export function keyspace(prefix: string) {
  return Object.freeze({
    prefix,
    channel: (name: string) => `${prefix}${name}`,
    // The relay (engine)
    /** First acceptance of an envelope id: `sender|seq|acceptedAt|attempt` (accept-outcome.ts). */
    accepted: (id: string) => `${prefix}acc:${id}`,
    /** A sender's last sequence number. */
    sequence: (sender: string) => `${prefix}seq:${sender}`,
    /**
     * One accepted envelope's body, stored once however many inboxes hold it: a hash of `body`
     * (the JSON text) and `refs` (inbox entries that still point at it), expiring with retention.
     */
    envelope: (id: string) => `${prefix}env:${id}`,
    /** A device's inbox: references `offset|id|sender|acceptedAt`, scored by offset. */
    inbox: (device: string) => `${prefix}inbox:${device}`,
    /** An inbox's offsets: next, acked, expired. */
    inboxMeta: (device: string) => `${prefix}inboxmeta:${device}`,
    counter: (key: string) => `${prefix}hit:${key}`,
    claim: (key: string) => `${prefix}claim:${key}`,
    directory: `${prefix}directory`,
    /** The latest directory head the authority signed. */
    directoryHead: `${prefix}directory:head`,
    presence: (office: string) => `${prefix}presence:${office}`,
    /** The signed prekeys a device (or the hub) published. */
    prekeys: (deviceId: string) => `${prefix}prekeys:${deviceId}`,
    // Attachments (PROTOCOL.md §8.2)
    /** One blob's state: owner, received, bytes, sealed, expiresAt (expires with retention). */
    blob: (id: string) => `${prefix}blob:${id}`,
    /** One blob's ciphertext chunks, field = chunk index (expires with the blob). */
    blobChunks: (id: string) => `${prefix}blobchunks:${id}`,
    /** An office's blobs scored by expiry, to reclaim their bytes from its usage. */
    blobsOf: (office: string) => `${prefix}blobs:${office}`,
    /** An office's stored blob bytes: `total` and one field per live blob. */
    blobUsage: (office: string) => `${prefix}blobusage:${office}`,
    /** Written by readiness checks: refused when Redis refuses writes. */
    readinessProbe: `${prefix}ready`,
    /** What the gateway accepted, for the hub to record (a stream with a consumer group). */
    hubStream: `${prefix}hub`,
    // The hub
    record: `${prefix}record`,
    recordHead: `${prefix}record:head`,
    recordBase: `${prefix}record:base`,
    /** Stream ids already recorded, so recording is idempotent. */
    recordIds: `${prefix}record:ids`,
    /** Checkpoints the hub signed (Redis can drop them, not forge them). */
    recordCheckpoints: `${prefix}record:checkpoints`,
    /** The hub's retired prekeys, sealed to CARICC's archive key (never on the hub host). */
    hubPrekeyArchive: `${prefix}hub:prekey-archive`,
    escalationDue: `${prefix}escalation:due`,
    /** The last escalations made, by time, for analysts who catch up after a gap. */
    escalationLog: `${prefix}escalation:log`,
    alert: (id: string) => `${prefix}alert:${id}`,
  });
}

export type Keyspace = ReturnType<typeof keyspace>;
