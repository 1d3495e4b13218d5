-- The n groups with the most occurrences over some buckets of one shard, of all services or
-- of one.
-- KEYS[1] scratch key, KEYS[2] cache key for the union of the closed buckets, KEYS[3] gid ->
-- service hash, KEYS[4 .. 3+nclosed] closed buckets (earlier hours/days: they rarely change),
-- KEYS[4+nclosed ..] open buckets (the current one). All share the shard's hash tag.
-- ARGV: n, nclosed, cache_ttl, service ('' for all). Returns {gid, count, ...}, highest first.
-- The closed buckets' union is cached for cache_ttl seconds, so a 7-day ranking merges two
-- sets instead of eight. One service's top walks the ranking down, highest first, until it
-- has n of that service's groups.
local n, nclosed, ttl, service = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local parts = {}
if nclosed > 0 then
  if redis.call('EXISTS', KEYS[2]) == 0 then
    local closed = {}
    for i = 4, 3 + nclosed do closed[#closed + 1] = KEYS[i] end
    redis.call('ZUNIONSTORE', KEYS[2], #closed, unpack(closed))
    redis.call('EXPIRE', KEYS[2], ttl)
  end
  parts[1] = KEYS[2]
end
for i = 4 + nclosed, #KEYS do parts[#parts + 1] = KEYS[i] end
if #parts == 0 then return {} end
redis.call('ZUNIONSTORE', KEYS[1], #parts, unpack(parts))
if service == '' then
  local top = redis.call('ZREVRANGE', KEYS[1], 0, n - 1, 'WITHSCORES')
  redis.call('DEL', KEYS[1])
  return top
end
local out, start, step = {}, 0, math.max(n * 20, 200)
while #out < 2 * n do
  local page = redis.call('ZREVRANGE', KEYS[1], start, start + step - 1, 'WITHSCORES')
  if #page == 0 then break end
  local gids = {}
  for i = 1, #page, 2 do gids[#gids + 1] = page[i] end
  local svcs = redis.call('HMGET', KEYS[3], unpack(gids))
  for i, svc in ipairs(svcs) do
    if svc == service and #out < 2 * n then
      out[#out + 1] = page[2 * i - 1]
      out[#out + 1] = page[2 * i]
    end
  end
  start = start + step
end
redis.call('DEL', KEYS[1])
return out
