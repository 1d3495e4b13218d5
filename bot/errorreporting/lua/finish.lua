-- The end of one push attempt.
-- KEYS[1] outbox zset, KEYS[2] job hash, KEYS[3] link hash
-- ARGV: gid, seq, outcome (done | retry | drop), now, next_at, error, status, link_ttl
-- Returns {result, attempts}: result 'done', 'retry', 'dropped', 'superseded' (a newer status
-- was queued meanwhile: it is due now) or 'gone' (the job expired).
local gid, seq, outcome, now = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local next_at, err, status, link_ttl = tonumber(ARGV[5]), ARGV[6], ARGV[7], tonumber(ARGV[8])
if outcome == 'done' and redis.call('EXISTS', KEYS[3]) == 1 then
  redis.call('HSET', KEYS[3], 'known', status, 'known_at', now)
  redis.call('EXPIRE', KEYS[3], link_ttl)
end
if redis.call('EXISTS', KEYS[2]) == 0 then return {'gone', 0} end
if redis.call('HGET', KEYS[2], 'seq') ~= seq then
  redis.call('HDEL', KEYS[2], 'lease_until')
  redis.call('ZADD', KEYS[1], now, gid)
  return {'superseded', 0}
end
if outcome == 'retry' then
  local attempts = redis.call('HINCRBY', KEYS[2], 'attempts', 1)
  redis.call('HSET', KEYS[2], 'last_error', err)
  redis.call('HDEL', KEYS[2], 'lease_until')
  redis.call('ZADD', KEYS[1], next_at, gid)
  return {'retry', attempts}
end
local attempts = tonumber(redis.call('HGET', KEYS[2], 'attempts') or '0') + 1
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[1], gid)
if outcome == 'done' then return {'done', attempts} end
return {'dropped', attempts}
