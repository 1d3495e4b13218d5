-- Claim up to ARGV[3] members of a due zset whose time has come, leasing each until ARGV[2].
-- KEYS[1] due zset (or escalations zset). ARGV: now, lease_until, limit. Returns {member, ...}.
local items = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, m in ipairs(items) do redis.call('ZADD', KEYS[1], 'XX', ARGV[2], m) end
return items
