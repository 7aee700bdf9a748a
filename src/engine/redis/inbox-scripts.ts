// Lua run inside Redis, so that each step that must be atomic is one round trip and cannot be
// half-done when a gateway dies. Each envelope's body is stored once, in a hash of its own
// (keyspace `envelope`: `body` and `refs`, expiring with retention); inbox members are references
// `offset|id|sender|acceptedAt`, and whatever removes one releases the body it points at.
// Body keys are named from a prefix passed in ARGV: the ids are only known inside the script.
import { NOW } from './lua.js';

/** Items one script call drops or acknowledges at most: every call stays short (Redis is single-threaded). */
export const STEP_ITEMS = 500;

/**
 * One inbox entry less points at the body (prefix .. id): deleted at zero. A missing key is created by HINCRBY
 * and deleted at once; a key of another type (written by someone else) is deleted too.
 */
const RELEASE = `
local function release(prefix, id)
  if not id then return end
  local key = prefix .. id
  local refs = redis.pcall('HINCRBY', key, 'refs', -1)
  if type(refs) ~= 'number' or refs <= 0 then redis.call('DEL', key) end
end`;

/**
 * Drops up to STEP_ITEMS items past retention from the head of an inbox, releasing their bodies,
 * and remembers the highest offset dropped, so a later fetch reports the hole; sets `trimmed`
 * false when more are left. Inbox keys carry no TTL of their own: if they expired whole, offsets
 * would restart and the hole would be silent.
 */
const trim = (inbox: string, meta: string, retention: string, bodies: string) => `
local trimmed = true
do
  local cutoff = now - tonumber(${retention})
  local dropped = nil
  local head = redis.call('ZRANGE', ${inbox}, 0, ${STEP_ITEMS})
  for i, member in ipairs(head) do
    local offset, id, acceptedAt = string.match(member, '^(%d+)|([^|]*)|[^|]*|(%d+)')
    if tonumber(acceptedAt) > cutoff then break end
    if i > ${STEP_ITEMS} then trimmed = false break end
    release(${bodies}, id)
    dropped = offset
  end
  if dropped then
    redis.call('ZREMRANGEBYSCORE', ${inbox}, '-inf', dropped)
    redis.call('HSET', ${meta}, 'expired', dropped)
  end
end`;

/**
 * Lets a script run when Redis is out of memory (maxmemory reached, noeviction): fetching and
 * acknowledging must keep working then, since acknowledging is what frees memory. Redis ≥ 7.
 */
const ALLOW_OOM = '#!lua flags=allow-oom';

/**
 * KEYS: accepted record, sender sequence, hub stream, envelope body, then one rate counter per
 * addressed office, then (inbox, meta) per device.
 * ARGV: id, sender, envelope, retentionMs, hub meta, rate window ms, rate limit, rate counters,
 * max inbox items, body key prefix, the call's attempt tag, then the push channel of each device
 * (same order as the inboxes). The acceptance record is `sender|seq|acceptedAt|attempt`: a
 * caller that lost the answer reads it to learn whether its own call stored the id.
 * Returns {1, record} for a repeat, {2} when a rate counter is over its limit, {3, i} when the
 * i-th device's inbox is full (nothing stored in either case), {0, record, offsets...} for a new
 * envelope, which is then pushed on each device's channel.
 * One round trip, one copy of the envelope on the wire and one in the store: the hot path of the
 * relay. Expired items are trimmed by fetches, and here only from an inbox that is full.
 */
export const ACCEPT = `
${RELEASE}
local previous = redis.call('GET', KEYS[1])
if previous then return {1, previous} end
local rates = tonumber(ARGV[8])
local devices = (#KEYS - 4 - rates) / 2
local maxItems = tonumber(ARGV[9])
${NOW}
for i = 1, devices do
  local inbox, meta = KEYS[3 + rates + 2 * i], KEYS[4 + rates + 2 * i]
  if redis.call('ZCARD', inbox) >= maxItems then
    -- What fills it may be expired (a device that stopped reading): drop a step of those first.
    ${trim('inbox', 'meta', 'ARGV[4]', 'ARGV[10]')}
    if redis.call('ZCARD', inbox) >= maxItems then return {3, i} end
  end
end
for i = 1, rates do
  local count = redis.call('INCR', KEYS[4 + i])
  if count == 1 then redis.call('PEXPIRE', KEYS[4 + i], ARGV[6]) end
  if count > tonumber(ARGV[7]) then return {2} end
end
local seq = redis.call('INCR', KEYS[2])
if devices > 0 then
  -- HINCRBY, not a plain count: references left by an earlier acceptance of this id stay counted.
  redis.call('HSET', KEYS[4], 'body', ARGV[3])
  redis.call('HINCRBY', KEYS[4], 'refs', devices)
  redis.call('PEXPIRE', KEYS[4], ARGV[4])
end
local result = {0, ''}
local reference = '|' .. ARGV[1] .. '|' .. ARGV[2] .. '|' .. now
for i = 1, devices do
  local inbox, meta = KEYS[3 + rates + 2 * i], KEYS[4 + rates + 2 * i]
  local offset = redis.call('HINCRBY', meta, 'next', 1)
  redis.call('ZADD', inbox, offset, offset .. reference)
  -- deliveryMessage() in inboxes.ts, built here so the envelope crosses to Redis once.
  redis.call('PUBLISH', ARGV[11 + i], '{"type":"envelope","offset":' .. offset .. ',"acceptedAt":' .. now .. ',"envelope":' .. ARGV[3] .. '}')
  result[2 + i] = offset
end
-- The hub's durable feed: the hub trims what it has recorded, never what it has not read.
redis.call('XADD', KEYS[3], '*', 'id', ARGV[1], 'meta', ARGV[5], 'envelope', ARGV[3])
local record = ARGV[2] .. '|' .. seq .. '|' .. now
redis.call('SET', KEYS[1], record .. '|' .. ARGV[11], 'PX', ARGV[4])
result[2] = record
return result
`;

/**
 * KEYS: inbox, meta. ARGV: after, limit, retentionMs, maxBytes, body key prefix.
 * Drops items past retention from the head, then reads references in small steps and resolves
 * each to its body until `limit` items or `maxBytes` of envelope text (the first item always
 * comes), so a page of large envelopes never sits whole in Redis's memory. Returns
 * {expiredUpTo, from, next, more (0/1), items, trimmed (0: expired items are left: call again
 * before trusting the page)}; items are (reference, body) pairs, the body nil when it is gone.
 */
export const FETCH = `${ALLOW_OOM}
${RELEASE}
${NOW}
${trim('KEYS[1]', 'KEYS[2]', 'ARGV[3]', 'ARGV[5]')}
local expired = tonumber(redis.call('HGET', KEYS[2], 'expired') or '0')
local acked = tonumber(redis.call('HGET', KEYS[2], 'acked') or '0')
local nextOffset = tonumber(redis.call('HGET', KEYS[2], 'next') or '0')
local from = math.max(tonumber(ARGV[1]), acked)
if not trimmed then return {expired, from, nextOffset, 0, {}, 0} end
local limit, budget = tonumber(ARGV[2]), tonumber(ARGV[4])
local items, count, bytes, cursor, full = {}, 0, 0, from, false
while not full do
  local chunk = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. cursor, '+inf', 'LIMIT', 0, 16)
  if #chunk == 0 then break end
  for _, member in ipairs(chunk) do
    local offset, id, cut = string.match(member, '^(%d+)|([^|]*)|[^|]*|%d+()')
    local body
    if cut <= #member then
      -- Stored before bodies were kept apart: the envelope follows the reference.
      body = string.sub(member, cut + 1)
      member = string.sub(member, 1, cut - 1)
    else
      body = redis.pcall('HGET', ARGV[5] .. id, 'body')
      if type(body) ~= 'string' then body = false end
    end
    local size = body and #body or 0
    if count == limit or (count > 0 and bytes + size > budget) then full = true break end
    items[#items + 1] = member
    items[#items + 1] = body
    count = count + 1
    bytes = bytes + size
    cursor = offset
  end
end
local more = 0
if full then more = 1 end
return {expired, from, nextOffset, more, items, 1}
`;

/**
 * KEYS: inbox, meta. ARGV: upTo, body key prefix. Removes up to STEP_ITEMS items up to upTo and
 * releases their bodies; returns {done (0/1), id, sender, id, sender...}; the caller repeats
 * until done.
 */
export const ACK = `${ALLOW_OOM}
${RELEASE}
local items = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ${STEP_ITEMS} + 1)
local out = {1}
local last = nil
for i, member in ipairs(items) do
  if i > ${STEP_ITEMS} then out[1] = 0 break end
  local offset, id, sender = string.match(member, '^(%d+)|([^|]*)|([^|]*)|')
  release(ARGV[2], id)
  out[#out + 1] = id
  out[#out + 1] = sender
  last = offset
end
if last then redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', last) end
if out[1] == 1 then
  local nextOffset = tonumber(redis.call('HGET', KEYS[2], 'next') or '0')
  local acked = tonumber(redis.call('HGET', KEYS[2], 'acked') or '0')
  local upTo = math.min(tonumber(ARGV[1]), nextOffset)
  if upTo > acked then redis.call('HSET', KEYS[2], 'acked', upTo) end
end
return out
`;

/**
 * KEYS: inbox, meta. ARGV: body key prefix. Removes up to STEP_ITEMS items and releases their
 * bodies; once the inbox is empty deletes it and its offsets. Returns 1 when done; the caller
 * repeats until then.
 */
export const DROP = `${ALLOW_OOM}
${RELEASE}
local items = redis.call('ZRANGE', KEYS[1], 0, ${STEP_ITEMS} - 1)
for _, member in ipairs(items) do
  release(ARGV[1], string.match(member, '^%d+|([^|]*)|'))
end
if #items < ${STEP_ITEMS} then
  redis.call('DEL', KEYS[1], KEYS[2])
  return 1
end
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, #items - 1)
return 0
`;
