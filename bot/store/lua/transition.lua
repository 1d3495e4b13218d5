-- A human state change on one group.
-- KEYS[1] group hash, KEYS[2] escalations zset, KEYS[3] timeline list, KEYS[4] due zset,
-- KEYS[5] notices list, KEYS[6] the shard's auto-resolve zset.
-- (The caller re-renders the group's existing messages at once; the outbox is only added to
-- with NX, so a notifier holding the group's lease is never raced into a second post.)
-- ARGV: action, user, now, arg (snooze seconds | snooze count | assignee), ttl, scope
-- Actions: acknowledge, unacknowledge, resolve, reopen, snooze_for, snooze_count, unsnooze,
-- assign, and 'wake' (the notifier, when a snooze for a time has run out without occurrences).
-- Ownership and release actions (bot.notify.snoozes): snooze_escalating (arg JSON {factor,
-- before, minute, base}), resolve_next (resolved until a revision not seen yet throws it),
-- auto_resolve (arg: seconds without events; the notifier's sweep). `scope` ("env=staging",
-- "revision=api-00042") limits a snooze to entries with that value: others wake it.
-- Returns {status, state, detail}; status is 'ok', 'noop', 'not_found' or 'invalid'.
local action, user, now, arg, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5])
local scope = ARGV[6] or ''
-- every field a snooze sets, so every way out of one clears them all
local SNOOZE_FIELDS = {'snooze_left', 'snooze_until', 'snooze_prev', 'snooze_scope', 'snooze_factor',
                       'snooze_before', 'snooze_minute', 'snooze_base'}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'not_found', '', ''} end
local gid = redis.call('HGET', KEYS[1], 'id')
local state = redis.call('HGET', KEYS[1], 'state')
local new
if action == 'acknowledge' then
  if state == 'acknowledged' then return {'noop', state, redis.call('HGET', KEYS[1], 'acked_by') or ''} end
  if state ~= 'open' then return {'invalid', state, ''} end
  new = 'acknowledged'
  redis.call('HSET', KEYS[1], 'acked_by', user, 'acked_at', now)
  redis.call('HDEL', KEYS[1], 'ack_reminded_at')
  redis.call('ZREM', KEYS[2], gid)
elseif action == 'unacknowledge' then
  if state ~= 'acknowledged' then return {'invalid', state, ''} end
  new = 'open'
  redis.call('HDEL', KEYS[1], 'acked_by', 'acked_at')
elseif action == 'resolve' then
  if state == 'resolved' then return {'noop', state, redis.call('HGET', KEYS[1], 'resolved_by') or ''} end
  new = 'resolved'
  redis.call('HSET', KEYS[1], 'resolved_by', user, 'resolved_at', now)
  redis.call('HDEL', KEYS[1], unpack(SNOOZE_FIELDS))
  redis.call('HDEL', KEYS[1], 'resolve_next', 'auto_resolved')
  redis.call('ZREM', KEYS[2], gid)
elseif action == 'reopen' then
  if state ~= 'resolved' then return {'invalid', state, ''} end
  new = 'open'
  redis.call('HDEL', KEYS[1], 'resolve_next', 'auto_resolved')
elseif action == 'snooze_for' or action == 'snooze_count' or action == 'snooze_escalating' then
  if state == 'resolved' then return {'invalid', state, ''} end
  local prev = state
  if state == 'snoozed' then prev = redis.call('HGET', KEYS[1], 'snooze_prev') or 'open' end
  new = 'snoozed'
  redis.call('HDEL', KEYS[1], unpack(SNOOZE_FIELDS))
  if scope ~= '' then redis.call('HSET', KEYS[1], 'snooze_scope', scope) end
  if action == 'snooze_escalating' then
    -- wakes when the hourly rate after the snooze reaches factor x the hour before it
    local e = cjson.decode(arg)
    redis.call('HSET', KEYS[1], 'snooze_factor', e.factor, 'snooze_before', math.max(1, e.before),
               'snooze_minute', e.minute, 'snooze_base', e.base)
  elseif action == 'snooze_for' and tonumber(arg) > 0 then  -- 0: no end (a scoped snooze)
    redis.call('HSET', KEYS[1], 'snooze_until', now + tonumber(arg))
    -- wake-up call: the message shows the end of the snooze even if the error never recurs
    redis.call('ZADD', KEYS[4], 'NX', now + tonumber(arg), gid)
  elseif action == 'snooze_for' then
    -- no time limit
  else
    redis.call('HSET', KEYS[1], 'snooze_left', tonumber(arg))
  end
  redis.call('HSET', KEYS[1], 'snooze_prev', prev, 'snoozed_by', user, 'snoozed_at', now)
elseif action == 'unsnooze' then
  if state ~= 'snoozed' then return {'invalid', state, ''} end
  new = redis.call('HGET', KEYS[1], 'snooze_prev') or 'open'
  redis.call('HDEL', KEYS[1], unpack(SNOOZE_FIELDS))
elseif action == 'wake' then
  local till = tonumber(redis.call('HGET', KEYS[1], 'snooze_until') or '')
  if state ~= 'snoozed' or not till or till > now then return {'noop', state, ''} end
  new = redis.call('HGET', KEYS[1], 'snooze_prev') or 'open'
  redis.call('HDEL', KEYS[1], unpack(SNOOZE_FIELDS))
  redis.call('RPUSH', KEYS[5], cjson.encode({kind = 'unsnoozed', now = now}))
  redis.call('EXPIRE', KEYS[5], ttl)
  redis.call('ZADD', KEYS[4], 'NX', now, gid)
elseif action == 'resolve_next' then
  -- ---- resolved in the next release: regresses only when a revision not seen yet throws it
  if state == 'resolved' and redis.call('HGET', KEYS[1], 'resolve_next') then
    return {'noop', state, redis.call('HGET', KEYS[1], 'resolved_by') or ''}
  end
  new = 'resolved'
  redis.call('HSET', KEYS[1], 'resolved_by', user, 'resolved_at', now, 'resolve_next', 1)
  redis.call('HDEL', KEYS[1], unpack(SNOOZE_FIELDS))
  redis.call('ZREM', KEYS[2], gid)
elseif action == 'auto_resolve' then
  -- ---- no event for `arg` seconds (the notifier's sweep); a later event is a regression
  local last = tonumber(redis.call('HGET', KEYS[1], 'last') or '') or now
  if state == 'resolved' or last + tonumber(arg) > now then
    if state == 'resolved' then redis.call('ZREM', KEYS[6], gid) end
    return {'noop', state, ''}
  end
  redis.call('ZREM', KEYS[6], gid)
  new = 'resolved'
  redis.call('HSET', KEYS[1], 'resolved_by', '', 'resolved_at', now, 'auto_resolved', 1)
  redis.call('HDEL', KEYS[1], unpack(SNOOZE_FIELDS))
  redis.call('HDEL', KEYS[1], 'resolve_next')
  redis.call('ZREM', KEYS[2], gid)
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
