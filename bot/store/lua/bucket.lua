-- Token bucket pacing posts to one Slack channel, shared by every replica.
-- KEYS[1] bucket hash {tokens, ts}. ARGV: now, rate (tokens/s), burst, ttl.
-- Takes a token when one is there and returns "0"; else takes nothing and returns the seconds
-- until one will be (as a string: Lua numbers become integers in replies).
local now, rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(b[1]) or burst
local ts = tonumber(b[2]) or now
-- a replica whose clock is behind the stored one refills nothing (never more than burst)
if now > ts then tokens = math.min(burst, tokens + (now - ts) * rate) end
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(math.max(now, ts)))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
return tostring(wait)
