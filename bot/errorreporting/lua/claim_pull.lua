-- Pick the linked groups to check now: oldest-checked first, within the per-minute API budget
-- shared by all replicas; they are marked checked at once, so no two replicas take one.
-- KEYS[1] linked zset, KEYS[2] API calls counter of this minute
-- ARGV: now, checked_before (only groups last checked at or before it), want, per_minute,
-- calls_ttl
-- Returns the gids.
local now, before = tonumber(ARGV[1]), tonumber(ARGV[2])
local want, per_minute = tonumber(ARGV[3]), tonumber(ARGV[4])
local used = tonumber(redis.call('GET', KEYS[2]) or '0')
local n = math.min(want, per_minute - used)
if n <= 0 then return {} end
local gids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', before, 'LIMIT', 0, n)
for _, gid in ipairs(gids) do
  redis.call('ZADD', KEYS[1], now, gid)
end
if #gids > 0 then
  redis.call('INCRBY', KEYS[2], #gids)
  redis.call('EXPIRE', KEYS[2], tonumber(ARGV[5]))
end
return gids
