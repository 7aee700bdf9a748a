// Lua shared by the engine's scripts.

/** Milliseconds from Redis's own clock, the same for every gateway instance. */
export const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;
