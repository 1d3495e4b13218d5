-- Take the lease on one due push, so that one replica does it.
-- KEYS[1] outbox zset, KEYS[2] job hash, KEYS[3] API calls counter of this minute
-- ARGV: gid, now, lease_until, calls (API calls a push costs), calls_ttl
-- Returns {} when the push is not due any more (another replica took it, or it is gone),
-- else {seq, eg, status, attempts, first_at}.
local gid, now, lease_until = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local due = tonumber(redis.call('ZSCORE', KEYS[1], gid) or '')
if not due or due > now then return {} end
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('ZREM', KEYS[1], gid)
  return {}
end
redis.call('ZADD', KEYS[1], lease_until, gid)
redis.call('HSET', KEYS[2], 'lease_until', lease_until)
redis.call('INCRBY', KEYS[3], tonumber(ARGV[4]))
redis.call('EXPIRE', KEYS[3], tonumber(ARGV[5]))
local j = redis.call('HMGET', KEYS[2], 'seq', 'eg', 'status', 'attempts', 'first_at')
return {j[1] or '0', j[2] or '', j[3] or '', j[4] or '0', j[5] or tostring(now)}
