-- Queue a push of a group's status to Error Reporting (the latest wanted status wins).
-- KEYS[1] outbox zset, KEYS[2] job hash, KEYS[3] linked zset, KEYS[4] link hash
-- ARGV: gid, eg, status, now, job_ttl, link_ttl
-- Returns 'queued', or 'in_sync' when nothing is pending and Error Reporting is already known
-- to have that status (e.g. the bot is applying a status it just pulled: no ping-pong).
local gid, eg, status, now = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local job_ttl, link_ttl = tonumber(ARGV[5]), tonumber(ARGV[6])
if redis.call('HGET', KEYS[4], 'eg') ~= eg then
  redis.call('HDEL', KEYS[4], 'known', 'known_at')
end
redis.call('HSET', KEYS[4], 'eg', eg)
redis.call('EXPIRE', KEYS[4], link_ttl)
redis.call('ZADD', KEYS[3], 'NX', now, gid)
redis.call('EXPIRE', KEYS[3], link_ttl)
local pending = redis.call('EXISTS', KEYS[2]) == 1
if not pending and redis.call('HGET', KEYS[4], 'known') == status then
  return 'in_sync'
end
redis.call('HINCRBY', KEYS[2], 'seq', 1)
redis.call('HSET', KEYS[2], 'gid', gid, 'eg', eg, 'status', status, 'attempts', 0, 'first_at', now,
  'last_error', '')
redis.call('EXPIRE', KEYS[2], job_ttl)
-- A replica working on an older status keeps its lease; the new status is due when it ends
-- (or at once, when that replica finishes and sees it was superseded).
local lease = tonumber(redis.call('HGET', KEYS[2], 'lease_until') or '0')
if lease > now then
  redis.call('ZADD', KEYS[1], lease, gid)
else
  redis.call('ZADD', KEYS[1], now, gid)
end
redis.call('EXPIRE', KEYS[1], job_ttl)
return 'queued'
