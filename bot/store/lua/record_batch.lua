-- Record one shard's part of a batch of error events atomically.
-- KEYS[1] due zset, KEYS[2] index zset, KEYS[3 .. 2+nseen] seen sets (per entry hour),
-- then per group 5 keys: group hash, minute counts, hour counts, revisions set, notices list;
-- then the history keys this call may write (hc/hcs/sh buckets, sx; same hash tag), declared
-- for Redis Cluster only: the script derives their names from the tag itself.
-- ARGV[1] JSON: {now, update_interval, group_wait, ttl_group, ttl_minutes, ttl_hours, ttl_seen,
--   nseen, spike: {factor, min_rate, recent, baseline, cooldown, min_age} (optional),
--   groups: [{id, meta: {field: value}, rev, ev: [[insertId, seen_idx, minute, hour, ts, sample]],
--             route: {field: value} (optional)}]}
-- `route` is the routing decision (bot/routing/router.py): written to the group hash only when
-- an episode starts (a new group, or a regression of a resolved one).
-- A spike: an open or acknowledged group at least `min_age` s old whose rate over the last
-- `recent` minutes is >= `min_rate`/min and >= `factor` x its per-minute rate over the
-- `baseline` minutes before; at most one spike notice per `cooldown` s.
-- Returns {duplicates, gid, new, regressed, added, count, state, ...}.
local p = cjson.decode(ARGV[1])
local tag = string.sub(KEYS[1], 1, -5)  -- "<prefix>:{<prefix>.<shard>}" from the due key
local now = p.now
local out = {0}
local dups = 0
local base = 2 + p.nseen
for gi, g in ipairs(p.groups) do
  local o = base + (gi - 1) * 5
  local gk, mk, hk, rk, nk = KEYS[o + 1], KEYS[o + 2], KEYS[o + 3], KEYS[o + 4], KEYS[o + 5]
  local added, first_ts, last_ts, sample, trace = 0, nil, nil, nil, nil
  local minutes, hours = {}, {}
  for _, e in ipairs(g.ev) do
    local sk = KEYS[2 + e[2]]
    if redis.call('SADD', sk, e[1]) == 1 then
      added = added + 1
      minutes[e[3]] = (minutes[e[3]] or 0) + 1
      hours[e[4]] = (hours[e[4]] or 0) + 1
      if first_ts == nil or e[5] < first_ts then first_ts = e[5] end
      if last_ts == nil or e[5] >= last_ts then last_ts = e[5]; sample = e[6]; trace = e[7] end
    else
      dups = dups + 1
    end
  end
  for i = 3, 2 + p.nseen do redis.call('EXPIRE', KEYS[i], p.ttl_seen) end
  if added > 0 then
    for m, c in pairs(minutes) do redis.call('HINCRBY', mk, m, c) end
    for h, c in pairs(hours) do redis.call('HINCRBY', hk, h, c) end
    redis.call('EXPIRE', mk, p.ttl_minutes)
    redis.call('EXPIRE', hk, p.ttl_hours)
    local is_new, regressed, notify = 0, 0, 0
    local state
    if redis.call('EXISTS', gk) == 0 then
      is_new = 1
      state = 'open'
      local fields = {'id', g.id, 'count', added, 'first', first_ts, 'last', last_ts, 'state', 'open',
                      'created', now, 'ver', 1, 'last_render', 0, 'sample', sample or ''}
      for k, v in pairs(g.meta) do fields[#fields + 1] = k; fields[#fields + 1] = v end
      if trace then fields[#fields + 1] = 'trace'; fields[#fields + 1] = trace end
      if g.route then
        for k, v in pairs(g.route) do fields[#fields + 1] = k; fields[#fields + 1] = v end
      end
      redis.call('HSET', gk, unpack(fields))
      redis.call('ZADD', KEYS[1], now + p.group_wait, g.id)
      notify = 1
      if g.rev and g.rev ~= '' then redis.call('SADD', rk, g.rev) end
    else
      redis.call('HINCRBY', gk, 'count', added)
      redis.call('HINCRBY', gk, 'ver', 1)
      local prev_last = tonumber(redis.call('HGET', gk, 'last')) or 0
      if last_ts >= prev_last then
        redis.call('HSET', gk, 'last', last_ts, 'sample', sample or '')
        if trace then redis.call('HSET', gk, 'trace', trace) end
        if g.meta.revision then redis.call('HSET', gk, 'revision', g.meta.revision) end
      end
      state = redis.call('HGET', gk, 'state')
      if state == 'resolved' then
        local by = redis.call('HGET', gk, 'resolved_by') or ''
        local at = redis.call('HGET', gk, 'resolved_at') or ''
        redis.call('HSET', gk, 'state', 'open', 'regressed_at', now)
        redis.call('HDEL', gk, 'acked_by', 'acked_at')
        redis.call('HINCRBY', gk, 'regressions', 1)
        if g.route then
          for k, v in pairs(g.route) do redis.call('HSET', gk, k, v) end
        end
        redis.call('RPUSH', nk, cjson.encode({kind = 'regression', by = by, at = tonumber(at) or 0, now = now}))
        redis.call('EXPIRE', nk, p.ttl_group)
        state = 'open'
        regressed = 1
        redis.call('ZADD', KEYS[1], 'NX', now, g.id)
        notify = 1
      elseif state == 'snoozed' then
        local left = tonumber(redis.call('HGET', gk, 'snooze_left') or '')
        local till = tonumber(redis.call('HGET', gk, 'snooze_until') or '')
        local wake = false
        if left then
          left = left - added
          if left <= 0 then wake = true else redis.call('HSET', gk, 'snooze_left', left) end
        end
        if till and till <= now then wake = true end
        if wake then
          state = redis.call('HGET', gk, 'snooze_prev') or 'open'
          redis.call('HSET', gk, 'state', state)
          redis.call('HDEL', gk, 'snooze_left', 'snooze_until', 'snooze_prev')
          redis.call('RPUSH', nk, cjson.encode({kind = 'unsnoozed', now = now}))
          redis.call('EXPIRE', nk, p.ttl_group)
          redis.call('ZADD', KEYS[1], 'NX', now, g.id)
          notify = 1
        end
      else
        local lr = tonumber(redis.call('HGET', gk, 'last_render')) or 0
        local due = lr + p.update_interval
        if due < now then due = now end
        redis.call('ZADD', KEYS[1], 'NX', due, g.id)
        notify = 1
      end
      if p.spike and regressed == 0 and (state == 'open' or state == 'acknowledged') then
        local sp = p.spike
        local created = tonumber(redis.call('HGET', gk, 'created')) or now
        local last_spike = tonumber(redis.call('HGET', gk, 'spike_at')) or 0
        if now - created >= sp.min_age and now - last_spike >= sp.cooldown then
          local cur = math.floor(now / 60)
          local fields = {}
          for m = cur - sp.recent - sp.baseline + 1, cur do fields[#fields + 1] = string.format('%d', m) end
          local vals = redis.call('HMGET', mk, unpack(fields))
          local base, recent = 0, 0
          for i, v in ipairs(vals) do
            local c = tonumber(v) or 0
            if i <= sp.baseline then base = base + c else recent = recent + c end
          end
          local rate, brate = recent / sp.recent, base / sp.baseline
          if rate >= sp.min_rate and rate >= sp.factor * brate then
            redis.call('HSET', gk, 'spike_at', now)
            redis.call('RPUSH', nk, cjson.encode({kind = 'spike', rate = rate, baseline = brate, now = now}))
            redis.call('EXPIRE', nk, p.ttl_group)
            redis.call('ZADD', KEYS[1], 'NX', now, g.id)
          end
        end
      end
      if g.rev and g.rev ~= '' and redis.call('SADD', rk, g.rev) == 1 and state ~= 'snoozed' then
        redis.call('RPUSH', nk, cjson.encode({kind = 'new_revision', revision = g.rev, now = now}))
        redis.call('EXPIRE', nk, p.ttl_group)
        redis.call('ZADD', KEYS[1], 'NX', now, g.id)
      end
    end
    redis.call('EXPIRE', gk, p.ttl_group)
    redis.call('EXPIRE', rk, p.ttl_group)
    redis.call('ZADD', KEYS[2], 'GT', last_ts, g.id)
    -- history (bot/store/history.py): rankings per 5-minute and hourly bucket, tallies per
    -- service and hour, a search entry per group. Same hash tag as this shard's keys.
    local svc = g.meta.service or ''
    local days = {}
    for h, c in pairs(hours) do
      local k1, k2, k3 = tag .. ':hc:h' .. h, tag .. ':hcs:' .. svc .. ':h' .. h, tag .. ':sh:h' .. h
      redis.call('ZINCRBY', k1, c, g.id)
      redis.call('ZINCRBY', k2, c, g.id)
      redis.call('HINCRBY', k3, svc, c)
      redis.call('EXPIRE', k1, 176400)
      redis.call('EXPIRE', k2, 176400)
      redis.call('EXPIRE', k3, 176400)
      local d = math.floor(tonumber(h) / 24)
      days[d] = (days[d] or 0) + c
    end
    for d, c in pairs(days) do
      local k1, k2, k3 = tag .. ':hc:d' .. d, tag .. ':hcs:' .. svc .. ':d' .. d, tag .. ':sh:d' .. d
      redis.call('ZINCRBY', k1, c, g.id)
      redis.call('ZINCRBY', k2, c, g.id)
      redis.call('HINCRBY', k3, svc, c)
      redis.call('EXPIRE', k1, 2678400)
      redis.call('EXPIRE', k2, 2678400)
      redis.call('EXPIRE', k3, 2678400)
    end
    local fives = {}
    for m, c in pairs(minutes) do
      local f = math.floor(tonumber(m) / 5)
      fives[f] = (fives[f] or 0) + c
    end
    for f, c in pairs(fives) do
      local k1, k2 = tag .. ':hc:f' .. f, tag .. ':hcs:' .. svc .. ':f' .. f
      redis.call('ZINCRBY', k1, c, g.id)
      redis.call('ZINCRBY', k2, c, g.id)
      redis.call('EXPIRE', k1, 7500)
      redis.call('EXPIRE', k2, 7500)
    end
    local nowh = tag .. ':sh:h' .. math.floor(now / 3600)
    local nowd = tag .. ':sh:d' .. math.floor(now / 86400)
    if is_new == 1 then
      redis.call('HINCRBY', nowh, 'n:' .. svc, 1)
      redis.call('HINCRBY', nowd, 'n:' .. svc, 1)
      redis.call('HSET', tag .. ':sx', string.lower(g.meta.title or '') .. ' ' .. svc .. ' ' .. g.id, g.id)
      redis.call('EXPIRE', tag .. ':sx', p.ttl_group)
    end
    if regressed == 1 then
      redis.call('HINCRBY', nowh, 'r:' .. svc, 1)
      redis.call('HINCRBY', nowd, 'r:' .. svc, 1)
    end
    redis.call('EXPIRE', nowh, 176400)
    redis.call('EXPIRE', nowd, 2678400)
    local count = tonumber(redis.call('HGET', gk, 'count'))
    out[#out + 1] = g.id
    out[#out + 1] = is_new
    out[#out + 1] = regressed
    out[#out + 1] = added
    out[#out + 1] = count
    out[#out + 1] = state
    out[#out + 1] = notify
  end
end
-- shard-level keys live as long as their newest group; expired groups leave the index
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - p.ttl_group)
redis.call('EXPIRE', KEYS[1], p.ttl_group)
redis.call('EXPIRE', KEYS[2], p.ttl_group)
out[1] = dups
return out
