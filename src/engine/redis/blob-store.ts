import { type BlobPut, type BlobState, type BlobStore, blobRefusal } from '../blob-store.js';
import type { RedisConnection } from './connection.js';
import { NOW } from './lua.js';

// Reclaims the office's expired blobs from its usage first (their keys expire by themselves).
const reclaim = (byExpiry: string, usage: string) => `
local gone = redis.call('ZRANGEBYSCORE', ${byExpiry}, '-inf', now)
for _, id in ipairs(gone) do
  local b = tonumber(redis.call('HGET', ${usage}, id) or '0')
  redis.call('HINCRBY', ${usage}, 'total', -b)
  redis.call('HDEL', ${usage}, id)
  redis.call('ZREM', ${byExpiry}, id)
end`;

/**
 * KEYS: blob meta, blob chunks, the owner's blobs by expiry, the owner's usage.
 * ARGV: blob id, owner, index, chunk, retention ms, max bytes, quota bytes, max blobs.
 * Returns {'ok', received} or {'err', reason, number}.
 */
const PUT = `${NOW}
${reclaim('KEYS[3]', 'KEYS[4]')}
local id, owner, index, chunk = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local meta = redis.call('HMGET', KEYS[1], 'owner', 'received', 'bytes', 'sealed', 'expiresAt')
local expiresAt
if not meta[1] then
  if index ~= 0 then return {'err', 'nostart', 0} end
  if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[8]) then return {'err', 'count', 0} end
  expiresAt = now + tonumber(ARGV[5])
  meta = {owner, '0', '0', '0', tostring(expiresAt)}
elseif meta[1] ~= owner then
  return {'err', 'owner', 0}
end
expiresAt = tonumber(meta[5])
local received, bytes = tonumber(meta[2]), tonumber(meta[3])
if index < received then return {'ok', received} end
if meta[4] == '1' then return {'err', 'sealed', 0} end
if index > received then return {'err', 'order', received} end
if bytes + #chunk > tonumber(ARGV[6]) then return {'err', 'large', 0} end
local used = tonumber(redis.call('HGET', KEYS[4], 'total') or '0')
if used + #chunk > tonumber(ARGV[7]) then return {'err', 'quota', used} end
redis.call('HSET', KEYS[2], tostring(index), chunk)
redis.call('HSET', KEYS[1], 'owner', owner, 'received', received + 1, 'bytes', bytes + #chunk,
  'sealed', meta[4], 'expiresAt', expiresAt)
redis.call('PEXPIREAT', KEYS[1], expiresAt)
redis.call('PEXPIREAT', KEYS[2], expiresAt)
redis.call('ZADD', KEYS[3], expiresAt, id)
redis.call('HINCRBY', KEYS[4], 'total', #chunk)
redis.call('HINCRBY', KEYS[4], id, #chunk)
return {'ok', received + 1}`;

/** KEYS: blob meta. ARGV: owner, chunks, hash. Returns {'ok'} or {'err', reason, received}. */
const SEAL = `
local meta = redis.call('HMGET', KEYS[1], 'owner', 'received', 'sealed')
if not meta[1] or meta[1] ~= ARGV[1] then return {'err', 'owner', 0} end
if tonumber(meta[2]) ~= tonumber(ARGV[2]) then return {'err', 'incomplete', tonumber(meta[2])} end
if meta[3] ~= '1' then redis.call('HSET', KEYS[1], 'sealed', '1', 'hash', ARGV[3]) end
return {'ok'}`;

/**
 * KEYS: blob meta, blob chunks, the owner's blobs by expiry, the owner's usage. ARGV: blob id,
 * owner. Deletes the blob if it is the owner's and not sealed, and gives its bytes back.
 */
const DISCARD = `
local meta = redis.call('HMGET', KEYS[1], 'owner', 'sealed')
if meta[1] ~= ARGV[2] or meta[2] == '1' then return 0 end
local b = tonumber(redis.call('HGET', KEYS[4], ARGV[1]) or '0')
redis.call('HINCRBY', KEYS[4], 'total', -b)
redis.call('HDEL', KEYS[4], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('DEL', KEYS[1], KEYS[2])
return 1`;

/** KEYS: the office's blobs by expiry, its usage. Returns the bytes its live blobs hold. */
const USAGE = `${NOW}
${reclaim('KEYS[1]', 'KEYS[2]')}
return tonumber(redis.call('HGET', KEYS[2], 'total') or '0')`;

type Reply = [string, string?, number?];

/**
 * Blobs in Redis: a hash of state per blob and a hash of its chunks (field = index), both
 * expiring with the inbox retention counted from the first chunk; per office, its blobs by
 * expiry and a usage hash (`total` and bytes per blob), so the quota is checked in the same
 * script that stores a chunk.
 */
export class RedisBlobStore implements BlobStore {
  private readonly scripts;

  constructor(
    private readonly connection: RedisConnection,
    private readonly retentionMs: number,
  ) {
    this.scripts = {
      put: connection.script('blob_put', PUT, 4),
      seal: connection.script('blob_seal', SEAL, 1),
      discard: connection.script('blob_discard', DISCARD, 4),
      usage: connection.script('blob_usage', USAGE, 2),
    };
  }

  private officeKeys(office: string) {
    const k = this.connection.keys;
    return [k.blobsOf(office), k.blobUsage(office)];
  }

  async put(request: BlobPut): Promise<number> {
    const { blobId, owner, index, chunk } = request;
    const k = this.connection.keys;
    const [status, reason, value] = (await this.scripts.put(
      k.blob(blobId),
      k.blobChunks(blobId),
      ...this.officeKeys(owner),
      blobId,
      owner,
      index,
      Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength) as unknown as string,
      this.retentionMs,
      request.maxBytes,
      request.quotaBytes,
      request.maxBlobs,
    )) as Reply;
    if (status === 'ok') return Number(reason);
    if (reason === 'nostart') throw blobRefusal.noStart();
    if (reason === 'owner') throw blobRefusal.notOwner();
    if (reason === 'sealed') throw blobRefusal.sealed();
    if (reason === 'order') throw blobRefusal.order(Number(value));
    if (reason === 'large') throw blobRefusal.tooLarge(request.maxBytes);
    if (reason === 'count') throw blobRefusal.count(request.maxBlobs);
    throw blobRefusal.quota(request.quotaBytes, Number(value));
  }

  async status(blobId: string): Promise<BlobState | undefined> {
    const fields = await this.connection.redis.hgetall(this.connection.keys.blob(blobId));
    if (fields.owner === undefined) return undefined;
    return {
      owner: fields.owner,
      received: Number(fields.received),
      bytes: Number(fields.bytes),
      sealed: fields.sealed === '1',
      ...(fields.hash === undefined ? {} : { hash: fields.hash }),
      expiresAt: Number(fields.expiresAt),
    };
  }

  async seal(blobId: string, owner: string, chunks: number, hash: string): Promise<BlobState> {
    const [status, reason, received] = (await this.scripts.seal(
      this.connection.keys.blob(blobId),
      owner,
      chunks,
      hash,
    )) as Reply;
    if (status !== 'ok') {
      throw reason === 'incomplete'
        ? blobRefusal.incomplete(Number(received))
        : blobRefusal.notOwner();
    }
    const state = await this.status(blobId);
    if (!state) throw blobRefusal.notOwner();
    return state;
  }

  async discard(blobId: string, owner: string): Promise<void> {
    const k = this.connection.keys;
    await this.scripts.discard(
      k.blob(blobId),
      k.blobChunks(blobId),
      ...this.officeKeys(owner),
      blobId,
      owner,
    );
  }

  async get(blobId: string, index: number): Promise<Uint8Array | undefined> {
    const chunk = await this.connection.redis.hgetBuffer(
      this.connection.keys.blobChunks(blobId),
      String(index),
    );
    return chunk ?? undefined;
  }

  async usage(office: string): Promise<number> {
    return Number(await this.scripts.usage(...this.officeKeys(office)));
  }
}
