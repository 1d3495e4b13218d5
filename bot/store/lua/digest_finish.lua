-- After a digest was posted/updated from version ARGV[3].
-- KEYS[1] channel digest hash, KEYS[2] digest outbox zset.
-- ARGV: channel, n, rendered_ver, now, update_interval, lease_until, posted ref ('' if updated).
-- Newer changes make it due after update_interval (coalescing); else it leaves the outbox.
local ch, n, now = ARGV[1], ARGV[2], tonumber(ARGV[4])
local member = ch .. '|' .. n
if ARGV[7] ~= '' then redis.call('HSET', KEYS[1], 'ts:' .. n, ARGV[7]) end
redis.call('HSET', KEYS[1], 'last:' .. n, now, 'rver:' .. n, ARGV[3])
local score = redis.call('ZSCORE', KEYS[2], member)
if not score or tonumber(score) ~= tonumber(ARGV[6]) then return 2 end
local ver = tonumber(redis.call('HGET', KEYS[1], 'ver:' .. n)) or 0
if ver > tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[2], now + tonumber(ARGV[5]), member)
  return 1
end
redis.call('ZREM', KEYS[2], member)
return 0
