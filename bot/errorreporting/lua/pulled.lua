-- Record a status read from Error Reporting; say whether the bot should apply it.
-- KEYS[1] job hash, KEYS[2] link hash
-- ARGV: eg, status, now, read_at (when the read was sent)
-- Returns 'changed' (apply it), 'same', 'pending' (a push from the bot is queued: the bot's
-- newer intent wins, nothing is applied), 'unlinked' (the link expired), 'stale' (the group
-- was linked to another Error Reporting group meanwhile) or 'raced' (a push finished while the
-- read was under way: what was read may predate it).
local eg, status, now, read_at = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local linked_eg = redis.call('HGET', KEYS[2], 'eg')
if not linked_eg then return 'unlinked' end
if linked_eg ~= eg then return 'stale' end
if redis.call('EXISTS', KEYS[1]) == 1 then return 'pending' end
local known_at = tonumber(redis.call('HGET', KEYS[2], 'known_at') or '')
if known_at and known_at >= read_at then return 'raced' end
local known = redis.call('HGET', KEYS[2], 'known')
-- keep the link's TTL: it tracks bot activity, not polling
redis.call('HSET', KEYS[2], 'known', status, 'known_at', now)
if known == status then return 'same' end
return 'changed'
