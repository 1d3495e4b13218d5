-- Give back a leased outbox entry to be retried at ARGV[3], if this replica still holds it.
-- KEYS[1] due zset. ARGV: member, lease_until, retry_at. Returns 1 if rescheduled.
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) == tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], 'XX', ARGV[3], ARGV[1])
  return 1
end
return 0
