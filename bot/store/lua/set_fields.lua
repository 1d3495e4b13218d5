-- Write fields of a group's hash if the group still exists (never resurrect an expired one).
-- KEYS[1] group hash. ARGV: field, value, field, value, ... Returns 1 if written.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
