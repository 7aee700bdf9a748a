// Lua run inside Redis, so that each step that must be atomic is one round trip and cannot be
// half-done when a gateway dies. Inbox members are `offset|id|sender|acceptedAt|envelope`.
import { NOW } from './lua.js';

/** Items one script call drops or acknowledges at most: every call stays short (Redis is single-threaded). */
export const STEP_ITEMS = 500;

/**
 * Drops up to STEP_ITEMS items past retention from the head of an inbox and remembers the highest
 * offset dropped, so a later fetch reports the hole; sets `trimmed` false when more are left.
 * Inbox keys carry no TTL of their own: if they expired whole, offsets would restart and the hole
 * would be silent.
 */
const trim = (inbox: string, meta: string, retention: string) => `
local trimmed = true
do
  local cutoff = now - tonumber(${retention})
  local dropped = nil
  local head = redis.call('ZRANGE', ${inbox}, 0, ${STEP_ITEMS})
  for i, member in ipairs(head) do
    local offset, acceptedAt = string.match(member, '^(%d+)|[^|]*|[^|]*|(%d+)|')
    if tonumber(acceptedAt) > cutoff then break end
    if i > ${STEP_ITEMS} then trimmed = false break end
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
 * KEYS: accepted record, sender sequence, hub stream, then one rate counter per addressed office,
 * then (inbox, meta) per device.
 * ARGV: id, sender, envelope, retentionMs, hub meta, rate window ms, rate limit, rate counters,
 * max inbox items, then the push channel of each device (same order as the inboxes).
 * Returns {1, record} for a repeat, {2} when a rate counter is over its limit, {3, i} when the
 * i-th device's inbox is full (nothing stored in either case), {0, record, offsets...} for a new
 * envelope, which is then pushed on each device's channel.
 * One round trip, one copy of the envelope on the wire: the hot path of the relay.
 */
export const ACCEPT = `
local previous = redis.call('GET', KEYS[1])
if previous then return {1, previous} end
local rates = tonumber(ARGV[8])
local devices = (#KEYS - 3 - rates) / 2
${NOW}
for i = 1, devices do
  local inbox, meta = KEYS[2 + rates + 2 * i], KEYS[3 + rates + 2 * i]
  ${trim('inbox', 'meta', 'ARGV[4]')}
  if redis.call('ZCARD', inbox) >= tonumber(ARGV[9]) then return {3, i} end
end
for i = 1, rates do
  local count = redis.call('INCR', KEYS[3 + i])
  if count == 1 then redis.call('PEXPIRE', KEYS[3 + i], ARGV[6]) end
  if count > tonumber(ARGV[7]) then return {2} end
end
local seq = redis.call('INCR', KEYS[2])
local result = {0, ''}
for i = 1, devices do
  local inbox, meta = KEYS[2 + rates + 2 * i], KEYS[3 + rates + 2 * i]
  local offset = redis.call('HINCRBY', meta, 'next', 1)
  redis.call('ZADD', inbox, offset, offset .. '|' .. ARGV[1] .. '|' .. ARGV[2] .. '|' .. now .. '|' .. ARGV[3])
  -- deliveryMessage() in inboxes.ts, built here so the envelope crosses to Redis once.
  redis.call('PUBLISH', ARGV[9 + i], '{"type":"envelope","offset":' .. offset .. ',"acceptedAt":' .. now .. ',"envelope":' .. ARGV[3] .. '}')
  result[2 + i] = offset
end
-- The hub's durable feed: the hub trims what it has recorded, never what it has not read.
redis.call('XADD', KEYS[3], '*', 'id', ARGV[1], 'meta', ARGV[5], 'envelope', ARGV[3])
local record = ARGV[2] .. '|' .. seq .. '|' .. now
redis.call('SET', KEYS[1], record, 'PX', ARGV[4])
result[2] = record
return result
`;

/**
 * KEYS: inbox, meta. ARGV: after, limit, retentionMs, maxBytes.
 * Drops items past retention from the head, then reads in small steps until `limit` items or
 * `maxBytes` of envelope text (the first item always comes), so a page of large envelopes never
 * sits whole in Redis's memory. Returns {expiredUpTo, from, next, more (0/1), items, trimmed
 * (0: expired items are left: call again before trusting the page)}.
 */
export const FETCH = `${ALLOW_OOM}
${NOW}
${trim('KEYS[1]', 'KEYS[2]', 'ARGV[3]')}
local expired = tonumber(redis.call('HGET', KEYS[2], 'expired') or '0')
local acked = tonumber(redis.call('HGET', KEYS[2], 'acked') or '0')
local nextOffset = tonumber(redis.call('HGET', KEYS[2], 'next') or '0')
local from = math.max(tonumber(ARGV[1]), acked)
local limit, budget = tonumber(ARGV[2]), tonumber(ARGV[4])
local items, bytes, cursor, full = {}, 0, from, false
while not full do
  local chunk = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. cursor, '+inf', 'LIMIT', 0, 16)
  if #chunk == 0 then break end
  for _, member in ipairs(chunk) do
    local offset, envelope = string.match(member, '^(%d+)|[^|]*|[^|]*|%d+|()')
    local size = #member - envelope + 1
    if #items == limit or (#items > 0 and bytes + size > budget) then full = true break end
    items[#items + 1] = member
    bytes = bytes + size
    cursor = offset
  end
end
local more = 0
if full then more = 1 end
if not trimmed then return {expired, from, nextOffset, 0, {}, 0} end
return {expired, from, nextOffset, more, items, 1}
`;

/**
 * KEYS: inbox, meta. ARGV: upTo. Removes up to STEP_ITEMS items up to upTo; returns
 * {done (0/1), id, sender, id, sender...}; the caller repeats until done.
 */
export const ACK = `${ALLOW_OOM}
local items = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ${STEP_ITEMS} + 1)
local out = {1}
local last = nil
for i, member in ipairs(items) do
  if i > ${STEP_ITEMS} then out[1] = 0 break end
  local offset, id, sender = string.match(member, '^(%d+)|([^|]*)|([^|]*)|')
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
