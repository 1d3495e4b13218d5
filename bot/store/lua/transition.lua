-- A human state change on one group.
-- KEYS[1] group hash, KEYS[2] escalations zset, KEYS[3] timeline list, KEYS[4] due zset,
-- KEYS[5] notices list.
-- (The caller re-renders the group's existing messages at once; the outbox is only added to
-- with NX, so a notifier holding the group's lease is never raced into a second post.)
-- ARGV: action, user, now, arg (snooze seconds | snooze count | assignee), ttl
-- Actions: acknowledge, unacknowledge, resolve, reopen, snooze_for, snooze_count, unsnooze,
-- assign, and 'wake' (the notifier, when a snooze for a time has run out without occurrences).
-- Returns {status, state, detail}; status is 'ok', 'noop', 'not_found' or 'invalid'.
local action, user, now, arg, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5])
if redis.call('EXISTS', KEYS[1]) == 0 then return {'not_found', '', ''} end
local gid = redis.call('HGET', KEYS[1], 'id')
local state = redis.call('HGET', KEYS[1], 'state')
local new
if action == 'acknowledge' then
  if state == 'acknowledged' then return {'noop', state, redis.call('HGET', KEYS[1], 'acked_by') or ''} end
  if state ~= 'open' then return {'invalid', state, ''} end
  new = 'acknowledged'
  redis.call('HSET', KEYS[1], 'acked_by', user, 'acked_at', now)
  redis.call('ZREM', KEYS[2], gid)
elseif action == 'unacknowledge' then
  if state ~= 'acknowledged' then return {'invalid', state, ''} end
  new = 'open'
  redis.call('HDEL', KEYS[1], 'acked_by', 'acked_at')
elseif action == 'resolve' then
  if state == 'resolved' then return {'noop', state, redis.call('HGET', KEYS[1], 'resolved_by') or ''} end
  new = 'resolved'
  redis.call('HSET', KEYS[1], 'resolved_by', user, 'resolved_at', now)
  redis.call('HDEL', KEYS[1], 'snooze_left', 'snooze_until', 'snooze_prev')
  redis.call('ZREM', KEYS[2], gid)
elseif action == 'reopen' then
  if state ~= 'resolved' then return {'invalid', state, ''} end
  new = 'open'
elseif action == 'snooze_for' or action == 'snooze_count' then
  if state == 'resolved' then return {'invalid', state, ''} end
  local prev = state
  if state == 'snoozed' then prev = redis.call('HGET', KEYS[1], 'snooze_prev') or 'open' end
  new = 'snoozed'
  redis.call('HDEL', KEYS[1], 'snooze_left', 'snooze_until')
  if action == 'snooze_for' then
    redis.call('HSET', KEYS[1], 'snooze_until', now + tonumber(arg))
    -- wake-up call: the message shows the end of the snooze even if the error never recurs
    redis.call('ZADD', KEYS[4], 'NX', now + tonumber(arg), gid)
  else
    redis.call('HSET', KEYS[1], 'snooze_left', tonumber(arg))
  end
  redis.call('HSET', KEYS[1], 'snooze_prev', prev, 'snoozed_by', user, 'snoozed_at', now)
elseif action == 'unsnooze' then
  if state ~= 'snoozed' then return {'invalid', state, ''} end
  new = redis.call('HGET', KEYS[1], 'snooze_prev') or 'open'
  redis.call('HDEL', KEYS[1], 'snooze_left', 'snooze_until', 'snooze_prev')
elseif action == 'wake' then
  local till = tonumber(redis.call('HGET', KEYS[1], 'snooze_until') or '')
  if state ~= 'snoozed' or not till or till > now then return {'noop', state, ''} end
  new = redis.call('HGET', KEYS[1], 'snooze_prev') or 'open'
  redis.call('HDEL', KEYS[1], 'snooze_left', 'snooze_until', 'snooze_prev')
  redis.call('RPUSH', KEYS[5], cjson.encode({kind = 'unsnoozed', now = now}))
  redis.call('EXPIRE', KEYS[5], ttl)
  redis.call('ZADD', KEYS[4], 'NX', now, gid)
elseif action == 'assign' then
  new = state
  redis.call('HSET', KEYS[1], 'assignee', arg, 'assigned_by', user, 'assigned_at', now)
else
  return {'invalid', state, 'unknown action'}
end
redis.call('HSET', KEYS[1], 'state', new, 'changed_by', user, 'changed_at', now)
redis.call('HINCRBY', KEYS[1], 'ver', 1)
redis.call('RPUSH', KEYS[3], cjson.encode({what = action, who = user, at = now, arg = arg, from = state, to = new}))
redis.call('LTRIM', KEYS[3], -200, -1)
redis.call('EXPIRE', KEYS[3], ttl)
return {'ok', new, ''}
