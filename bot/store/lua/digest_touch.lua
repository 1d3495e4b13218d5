-- A group listed in a digest changed: the digest is due for an update, coalesced.
-- KEYS[1] channel digest hash, KEYS[2] digest outbox zset. ARGV: channel, n, now,
-- update_interval, immediate (1 after a human action), ttl.
-- Coalescing: due at last render + update_interval; an entry already there is kept (a leased
-- one's holder sees the new version when it finishes). A human action brings a scheduled update
-- forward to now; an entry due later than now + update_interval can only be a lease and is kept.
local ch, n, now, interval = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local member = ch .. '|' .. n
redis.call('HINCRBY', KEYS[1], 'ver:' .. n, 1)
local due = (tonumber(redis.call('HGET', KEYS[1], 'last:' .. n)) or 0) + interval
if ARGV[5] == '1' or due < now then due = now end
local score = tonumber(redis.call('ZSCORE', KEYS[2], member) or '')
if score == nil then
  redis.call('ZADD', KEYS[2], due, member)
elseif ARGV[5] == '1' and score > now and score <= now + interval then
  redis.call('ZADD', KEYS[2], now, member)
end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[6]))
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[6]))
return 1
