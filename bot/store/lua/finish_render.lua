-- After a group's messages were posted/updated from version ARGV[1] of the group.
-- KEYS[1] group hash, KEYS[2] due zset, KEYS[3] notices list.
-- ARGV: rendered_ver, now, update_interval, lease_until, gid.
-- Pending notices make it due at once; other changes since the render make it due after
-- update_interval (coalescing); else it leaves the outbox. Only the lease holder's entry is
-- touched (its score is still lease_until). A group snoozed for a time stays in the outbox
-- until its snooze ends (its wake-up call); a group that expired leaves it.
local gid = redis.call('HGET', KEYS[1], 'id')
if not gid then
  local score = redis.call('ZSCORE', KEYS[2], ARGV[5])
  if score and tonumber(score) == tonumber(ARGV[4]) then redis.call('ZREM', KEYS[2], ARGV[5]) end
  return 0
end
local now = tonumber(ARGV[2])
redis.call('HSET', KEYS[1], 'last_render', now, 'rendered_ver', ARGV[1])
local score = redis.call('ZSCORE', KEYS[2], gid)
if not score or tonumber(score) ~= tonumber(ARGV[4]) then return 2 end
if redis.call('LLEN', KEYS[3]) > 0 then
  redis.call('ZADD', KEYS[2], now, gid)
  return 1
end
local ver = tonumber(redis.call('HGET', KEYS[1], 'ver')) or 0
if ver > tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), gid)
  return 1
end
local till = tonumber(redis.call('HGET', KEYS[1], 'snooze_until') or '')
if till and till > now and redis.call('HGET', KEYS[1], 'state') == 'snoozed' then
  redis.call('ZADD', KEYS[2], till, gid)
  return 3
end
redis.call('ZREM', KEYS[2], gid)
return 0
