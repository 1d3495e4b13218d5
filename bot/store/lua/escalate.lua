-- Send one escalation (or repeat) of a group, by the replica holding its lease.
-- KEYS[1] group hash, KEYS[2] escalations zset, KEYS[3] notices list, KEYS[4] due zset.
-- ARGV: gid, now, lease_until, next_at (0: no repeat), notice JSON, ttl.
-- Returns 'sent', 'lost' (the lease is not ours any more) or 'cancelled' (no longer open).
-- The notice and the next schedule are written together, so a crash never sends it twice.
local gid, now, lease, next_at = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local score = redis.call('ZSCORE', KEYS[2], gid)
if not score or tonumber(score) ~= lease then return 'lost' end
if redis.call('HGET', KEYS[1], 'state') ~= 'open' then
  redis.call('ZREM', KEYS[2], gid)
  return 'cancelled'
end
redis.call('RPUSH', KEYS[3], ARGV[5])
redis.call('EXPIRE', KEYS[3], tonumber(ARGV[6]))
redis.call('HINCRBY', KEYS[1], 'escalations', 1)
redis.call('HSET', KEYS[1], 'escalated_at', now)
redis.call('ZADD', KEYS[4], 'NX', now, gid)
if next_at > 0 then
  redis.call('ZADD', KEYS[2], next_at, gid)
else
  redis.call('ZREM', KEYS[2], gid)
end
return 'sent'
