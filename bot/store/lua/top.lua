-- The n groups with the most occurrences over some buckets of one shard.
-- KEYS[1] scratch key, KEYS[2] cache key for the union of the closed buckets,
-- KEYS[3 .. 2+nclosed] closed buckets (earlier hours/days: they rarely change),
-- KEYS[3+nclosed ..] open buckets (the current one). All share the shard's hash tag.
-- ARGV: n, nclosed, cache_ttl. Returns {gid, count, gid, count, ...}, highest first.
-- The closed buckets' union is cached for cache_ttl seconds, so a 7-day ranking merges two
-- sets instead of eight.
local n, nclosed, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local parts = {}
if nclosed > 0 then
  if redis.call('EXISTS', KEYS[2]) == 0 then
    local closed = {}
    for i = 3, 2 + nclosed do closed[#closed + 1] = KEYS[i] end
    redis.call('ZUNIONSTORE', KEYS[2], #closed, unpack(closed))
    redis.call('EXPIRE', KEYS[2], ttl)
  end
  parts[1] = KEYS[2]
end
for i = 3 + nclosed, #KEYS do parts[#parts + 1] = KEYS[i] end
if #parts == 0 then return {} end
redis.call('ZUNIONSTORE', KEYS[1], #parts, unpack(parts))
local top = redis.call('ZREVRANGE', KEYS[1], 0, n - 1, 'WITHSCORES')
redis.call('DEL', KEYS[1])
return top
