-- The n groups with the most occurrences over some buckets of one shard.
-- KEYS[1] a scratch key (same hash tag), KEYS[2..] bucket zsets. ARGV[1] n.
-- Returns {gid, count, gid, count, ...}, highest first.
local n = tonumber(ARGV[1])
local buckets = {}
for i = 2, #KEYS do buckets[#buckets + 1] = KEYS[i] end
if #buckets == 0 then return {} end
redis.call('ZUNIONSTORE', KEYS[1], #buckets, unpack(buckets))
local top = redis.call('ZREVRANGE', KEYS[1], 0, n - 1, 'WITHSCORES')
redis.call('DEL', KEYS[1])
return top
