-- Decide, for groups about to get their first message in one channel, whether each is posted
-- on its own or listed in the channel's digest (storm control).
-- KEYS[1] channel digest hash {cur, cur_until, seq, ts:<n>, ver:<n>, last:<n>, size:<n>},
-- KEYS[2] membership zset gid -> digest number, KEYS[3] window zset gid -> first due time,
-- KEYS[4] digest outbox zset "<channel>|<n>" -> due time.
-- ARGV: channel, now, window, threshold, max_size, ttl, update_interval, correlated (1: these
-- groups share a cause with the recent ones, bot.incident.correlate: open a digest even under
-- the threshold), gid... ("!gid": post it on its own even while a digest is open)
-- A new digest is due at once; one already posted is updated at most once per update_interval.
-- Returns {gid, n, ...}: n = 0 to post on its own, else the digest number (idempotent: a group
-- already listed keeps its digest). While a digest is open (until `window` after its last
-- addition) every new group joins it; else a digest opens once more than `threshold` new groups
-- fell in the last `window` seconds.
local ch, now, window = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local threshold, max_size, ttl = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - window)
local out, fresh = {}, {}
local interval = tonumber(ARGV[7])
local correlated = ARGV[8] == '1'
for i = 9, #ARGV do
  local gid = ARGV[i]
  -- "!gid": not part of the outage the open digest stands for: posted on its own
  local own = string.sub(gid, 1, 1) == '!'
  if own then gid = string.sub(gid, 2) end
  local n = redis.call('ZSCORE', KEYS[2], gid)
  if n then
    out[#out + 1] = gid
    out[#out + 1] = tonumber(n)
  elseif own then
    redis.call('ZADD', KEYS[3], 'NX', now, gid)
    out[#out + 1] = gid
    out[#out + 1] = 0
  else
    redis.call('ZADD', KEYS[3], 'NX', now, gid)
    fresh[#fresh + 1] = gid
  end
end
redis.call('EXPIRE', KEYS[3], math.ceil(window) + 60)
if #fresh == 0 then return out end
local cur = tonumber(redis.call('HGET', KEYS[1], 'cur') or '')
local cur_until = tonumber(redis.call('HGET', KEYS[1], 'cur_until') or '') or 0
local open = cur ~= nil and cur_until > now
if not open and not correlated and redis.call('ZCARD', KEYS[3]) <= threshold then
  for _, gid in ipairs(fresh) do
    out[#out + 1] = gid
    out[#out + 1] = 0
  end
  return out
end
for _, gid in ipairs(fresh) do
  if not open or (tonumber(redis.call('HGET', KEYS[1], 'size:' .. cur)) or 0) >= max_size then
    cur = redis.call('HINCRBY', KEYS[1], 'seq', 1)
    redis.call('HSET', KEYS[1], 'created:' .. cur, now, 'last:' .. cur, 0)
    open = true
  end
  redis.call('ZADD', KEYS[2], cur, gid)
  redis.call('HINCRBY', KEYS[1], 'size:' .. cur, 1)
  redis.call('HINCRBY', KEYS[1], 'ver:' .. cur, 1)
  local due = (tonumber(redis.call('HGET', KEYS[1], 'last:' .. cur)) or 0)
  if due > 0 then due = due + interval end
  if due < now then due = now end
  redis.call('ZADD', KEYS[4], 'NX', due, ch .. '|' .. cur)
  out[#out + 1] = gid
  out[#out + 1] = cur
end
redis.call('HSET', KEYS[1], 'cur', cur, 'cur_until', now + window)
redis.call('EXPIRE', KEYS[1], ttl)
redis.call('EXPIRE', KEYS[2], ttl)
redis.call('EXPIRE', KEYS[4], ttl)
return out
