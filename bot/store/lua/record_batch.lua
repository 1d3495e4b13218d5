-- Record one shard's part of a batch of error events atomically.
-- KEYS: every key this call touches, all with the shard's hash tag; the payload refers to them
-- by index: KEYS[1] due zset, KEYS[2] index zset, KEYS[3] search hash, KEYS[4] gid -> service
-- hash, then the seen hashes, rank zsets, tally hashes and group keys (bot/store/keys.py).
-- ARGV[1] JSON: {now, update_interval, group_wait,
--   ttl: {group, refresh, seen}, keep_minutes (per-minute counts kept, in minutes),
--   spike: {factor, min_rate, recent, baseline, cooldown, min_age} (optional),
--   buckets: [[rank key, tally key or 0, ttl], ...] (history buckets of the events),
--   now_tally: [hour tally key, ttl, day tally key, ttl] (new groups, regressions),
--   groups: [{id, gk (group hash), nk (notices list), meta: {field: value}, rev,
--             ev: [[insertId, seen key, ts, sample, trace, bucket, bucket, bucket]],
--             route: {field: value} (optional)}]}
-- (bucket: an index into `buckets`, 0 for none: past its retention).
-- `route` is the routing decision (bot/routing/router.py): written to the group hash only when
-- an episode starts (a new group, or a regression of a resolved one).
-- A spike: an open or acknowledged group at least `min_age` s old whose rate over the last
-- `recent` minutes is >= `min_rate`/min and >= `factor` x its per-minute rate over the
-- `baseline` minutes before; at most one spike notice per `cooldown` s.
-- Snoozes and resolves (bot/snoozes.py), in the blocks marked "----": per group kv (the
-- distinct scopes of its entries, "\31revision=R\31key=value\31...\31"), ar (auto_resolve_after
-- seconds, 0 never) and at (ack_timeout seconds); ares: the auto-resolve zset's key index.
-- Returns {duplicates, gid, new, regressed, added, count, state, notify, ...}.
-- Calls are gathered per key where Redis allows (one HMGET/HSET per seen key, one ZADD for the
-- outbox and one for the index, one HINCRBY per tally field, one EXPIRE per key), so a group
-- costs a handful of calls, whatever the batch.
local p = cjson.decode(ARGV[1])
local now, ttl = p.now, p.ttl
local DUE, INDEX, SEARCH, SERVICES = 1, 2, 3, 4
local CHUNK = 1000 -- arguments per unpack (Lua's C stack is limited)

-- redis.call(cmd, KEYS[ki], [flag,] args...) in parts of at most `step` arguments
local function call_chunked(cmd, ki, args, step, flag)
  for i = 1, #args, step do
    local part = {}
    if flag then part[1] = flag end
    for j = i, math.min(i + step - 1, #args) do part[#part + 1] = args[j] end
    redis.call(cmd, KEYS[ki], unpack(part))
  end
end

-- insertIds not seen before: {[seen key] = {[insertId] = true}}; an id twice in the batch is
-- fresh once (taken by the first event that claims it)
local function dedup()
  local ids = {}
  for _, g in ipairs(p.groups) do
    for _, e in ipairs(g.ev) do
      local t = ids[e[2]]
      if not t then t = {}; ids[e[2]] = t end
      t[#t + 1] = e[1]
    end
  end
  local fresh = {}
  for ki, list in pairs(ids) do
    local f, add = {}, {}
    for i = 1, #list, CHUNK do
      local part = {}
      for j = i, math.min(i + CHUNK - 1, #list) do part[#part + 1] = list[j] end
      local got = redis.call('HMGET', KEYS[ki], unpack(part))
      for j, id in ipairs(part) do
        if not got[j] and not f[id] then
          f[id] = true
          add[#add + 1] = id
          add[#add + 1] = ''
        end
      end
    end
    if #add > 0 then call_chunked('HSET', ki, add, 2 * CHUNK) end
    redis.call('EXPIRE', KEYS[ki], ttl.seen)
    fresh[ki] = f
  end
  return fresh
end

-- Per-minute counts live in the group hash as JSON [base, age, n, age, n, ...]
-- (slot = base - age; base = the slot of `now` when written): non-zero slots only, the last
-- `keep` slots up to now.
local function decode_slots(enc)
  local slots = {}
  if enc then
    local a = cjson.decode(enc)
    for i = 2, #a, 2 do slots[a[1] - a[i]] = a[i + 1] end
  end
  return slots
end

local function encode_slots(slots, base, keep)
  local ages = {}
  for s in pairs(slots) do
    local age = base - s
    if age < keep then ages[#ages + 1] = age end
  end
  table.sort(ages)
  local out = {base}
  for _, age in ipairs(ages) do
    out[#out + 1] = age
    out[#out + 1] = slots[base - age]
  end
  return cjson.encode(out)
end

-- (nil for the encoding when nothing changes: no slot within the window)
local function bump_slots(enc, adds, base, keep)
  local fresh = {}
  for s, n in pairs(adds) do
    if base - s < keep then fresh[#fresh + 1] = s end
  end
  if #fresh == 0 and enc then return nil, nil end
  local slots = decode_slots(enc)
  for _, s in ipairs(fresh) do slots[s] = (slots[s] or 0) + adds[s] end
  return slots, encode_slots(slots, base, keep)
end

local function notice(g, n)
  redis.call('RPUSH', KEYS[g.nk], cjson.encode(n))
  redis.call('EXPIRE', KEYS[g.nk], ttl.group)
end

local function has_line(text, line)
  for x in string.gmatch(text, '[^\n]+') do
    if x == line then return true end
  end
  return false
end

-- group hash fields read once per group
local FIELDS = {'id', 'count', 'ver', 'last', 'state', 'last_render', 'created', 'spike_at',
  'snooze_left', 'snooze_until', 'snooze_prev', 'resolved_by', 'resolved_at', 'regressions',
  'cm', 'revs', 'ttl_at',
  -- snoozes and resolves
  'snooze_scope', 'snooze_factor', 'snooze_before', 'snooze_minute', 'snooze_base', 'resolve_next',
  'auto_resolved', 'acked_by', 'acked_at', 'ack_reminded_at'}
local SNOOZE_FIELDS = {'snooze_left', 'snooze_until', 'snooze_prev', 'snooze_scope', 'snooze_factor',
  'snooze_before', 'snooze_minute', 'snooze_base'}

-- ---- snoozes: does this batch wake a scoped or "until escalating" snooze? (why, or nil)
local function snooze_wakes(g, h, minutes)
  if h.snooze_scope and g.kv then
    for _, combo in ipairs(g.kv) do
      if not string.find(combo, '\31' .. h.snooze_scope .. '\31', 1, true) then return 'scope' end
    end
  end
  local factor = tonumber(h.snooze_factor or '')
  if factor then
    -- the entries since the snooze (at most the last hour's) against the hour before it
    local sm, cur = tonumber(h.snooze_minute) or 0, math.floor(now / 60)
    local from, after = math.max(sm, cur - 59), 0
    for m = from, cur do after = after + (minutes[m] or 0) end
    if from == sm then after = after - (tonumber(h.snooze_base) or 0) end
    if after >= factor * (tonumber(h.snooze_before) or 1) then return 'escalating' end
  end
  return nil
end

local function read_group(ki)
  local vals = redis.call('HMGET', KEYS[ki], unpack(FIELDS))
  local h = {}
  for i, f in ipairs(FIELDS) do h[f] = vals[i] or nil end
  return h
end

-- the rate test of a spike, on the per-minute counts after this batch
local function is_spike(sp, minutes)
  local cur = math.floor(now / 60)
  local base, recent = 0, 0
  for m = cur - sp.recent - sp.baseline + 1, cur do
    local c = minutes[m] or 0
    if m <= cur - sp.recent then base = base + c else recent = recent + c end
  end
  local rate, brate = recent / sp.recent, base / sp.baseline
  return rate >= sp.min_rate and rate >= sp.factor * brate, rate, brate
end

local out = {0}
local dups = 0
local fresh = dedup()
local due_new, due_nx, index = {}, {}, {}
local ranked = {} -- rank key index -> true (to EXPIRE once)
local tallies = {} -- tally key index -> {field -> n}
local searches, services = {}, {}
local now_min = math.floor(now / 60)

local function tally(ki, field, n)
  local t = tallies[ki]
  if not t then t = {}; tallies[ki] = t end
  t[field] = (t[field] or 0) + n
end

for _, g in ipairs(p.groups) do
  local added, first_ts, last_ts, sample, trace = 0, nil, nil, nil, nil
  local minutes, per_bucket = {}, {}
  for _, e in ipairs(g.ev) do
    local f = fresh[e[2]]
    if f[e[1]] then
      f[e[1]] = nil
      added = added + 1
      local m = math.floor(e[3] / 60)
      minutes[m] = (minutes[m] or 0) + 1
      for i = 6, 8 do
        if e[i] > 0 then per_bucket[e[i]] = (per_bucket[e[i]] or 0) + 1 end
      end
      if first_ts == nil or e[3] < first_ts then first_ts = e[3] end
      if last_ts == nil or e[3] >= last_ts then last_ts = e[3]; sample = e[4]; trace = e[5] end
    else
      dups = dups + 1
    end
  end
  if added > 0 then
    local gk = KEYS[g.gk]
    local h = read_group(g.gk)
    -- (per-hour counts are the hourly rankings: bot/store/redis_store.py hour_counts)
    local mslots, cm = bump_slots(h.cm, minutes, now_min, p.keep_minutes)
    local set = {cm = cm}
    local is_new, regressed, notify = 0, 0, 0
    local state, count
    local first_nx = nil
    local function due_at(t) if first_nx == nil then first_nx = t end end
    if not h.id then
      is_new, state, count, notify = 1, 'open', added, 1
      set.id, set.count, set.first, set.last, set.state = g.id, added, first_ts, last_ts, 'open'
      set.created, set.ver, set.last_render, set.sample = now, 1, 0, sample or ''
      for k, v in pairs(g.meta) do set[k] = v end
      if trace then set.trace = trace end
      set.revs = g.rev or ''
      due_new[#due_new + 1] = now + p.group_wait
      due_new[#due_new + 1] = g.id
    else
      count = (tonumber(h.count) or 0) + added
      set.count, set.ver = count, (tonumber(h.ver) or 0) + 1
      if last_ts >= (tonumber(h.last) or 0) then
        set.last, set.sample = last_ts, sample or ''
        if trace then set.trace = trace end
        if g.meta.revision then set.revision = g.meta.revision end
      end
      state = h.state
      -- ---- resolved in the next release: entries of revisions seen before the resolve are
      -- counted quietly; the first entry of a revision not seen yet is the regression
      local release = state == 'resolved' and h.resolve_next ~= nil
      local new_rev = g.rev and g.rev ~= '' and h.revs ~= nil and not has_line(h.revs, g.rev)
      if release and not new_rev then
        state = 'resolved'
      elseif state == 'resolved' then
        set.state, set.regressed_at = 'open', now
        redis.call('HDEL', gk, 'acked_by', 'acked_at', 'resolve_next', 'auto_resolved', 'ack_reminded_at')
        set.regressions = (tonumber(h.regressions) or 0) + 1
        notice(g, {kind = 'regression', by = h.resolved_by or '', at = tonumber(h.resolved_at or '') or 0, now = now,
                   auto = h.auto_resolved and 1 or 0, release = release and g.rev or nil})
        state, regressed, notify = 'open', 1, 1
        due_at(now)
      elseif state == 'snoozed' then
        local left = tonumber(h.snooze_left or '')
        local till = tonumber(h.snooze_until or '')
        local wake = false
        if left then
          left = left - added
          if left <= 0 then wake = true else set.snooze_left = left end
        end
        if till and till <= now then wake = true end
        local why = snooze_wakes(g, h, mslots or decode_slots(h.cm))
        if why then wake = true end
        if wake then
          state = h.snooze_prev or 'open'
          set.state = state
          redis.call('HDEL', gk, unpack(SNOOZE_FIELDS))
          notice(g, {kind = 'unsnoozed', now = now, why = why, scope = h.snooze_scope,
                     factor = tonumber(h.snooze_factor or '')})
          due_at(now)
          notify = 1
        end
      else
        local due = (tonumber(h.last_render) or 0) + p.update_interval
        if due < now then due = now end
        due_at(due)
        notify = 1
        -- ---- ack reminders: an acknowledged group that keeps firing reminds its
        -- acknowledger once per ack_timeout
        if state == 'acknowledged' and (g.at or 0) > 0 then
          local since = tonumber(h.ack_reminded_at or '') or tonumber(h.acked_at or '') or now
          if now - since >= g.at then
            set.ack_reminded_at = now
            notice(g, {kind = 'ack_reminder', user = h.acked_by or '',
                       at = tonumber(h.acked_at or '') or now, now = now})
            due_at(now)
          end
        end
      end
      if p.spike and regressed == 0 and (state == 'open' or state == 'acknowledged') then
        local sp = p.spike
        local created = tonumber(h.created) or now
        local last_spike = tonumber(h.spike_at) or 0
        if now - created >= sp.min_age and now - last_spike >= sp.cooldown then
          local yes, rate, brate = is_spike(sp, mslots or decode_slots(h.cm))
          if yes then
            set.spike_at = now
            notice(g, {kind = 'spike', rate = rate, baseline = brate, now = now})
            due_at(now)
          end
        end
      end
      if g.rev and g.rev ~= '' then
        if h.revs == nil then
          set.revs = g.rev -- a group recorded before revisions lived in its hash: start here
        elseif not has_line(h.revs, g.rev) then
          set.revs = h.revs == '' and g.rev or (h.revs .. '\n' .. g.rev)
          -- (a release regression's notice names the new revision already)
          if state ~= 'snoozed' and not (release and regressed == 1) then
            notice(g, {kind = 'new_revision', revision = g.rev, now = now})
            due_at(now)
          end
        end
      end
    end
    -- ---- auto-resolve: resolves itself `ar` s after its last entry (the notifier's sweep)
    if g.ar ~= nil then
      if g.ar > 0 and state ~= 'resolved' then
        set.auto_resolve_s = g.ar
        redis.call('ZADD', KEYS[p.ares], (tonumber(set.last or h.last) or now) + g.ar, g.id)
        redis.call('EXPIRE', KEYS[p.ares], ttl.group)
      else
        redis.call('ZREM', KEYS[p.ares], g.id)
      end
    end
    -- ---- routing at ingest: the decision of an episode's first entry
    if g.route and (is_new == 1 or regressed == 1) then
      for k, v in pairs(g.route) do set[k] = v end
    end
    -- the group's TTL runs from its last occurrence; refreshed at most every ttl.refresh s
    local refresh = is_new == 1 or now - (tonumber(h.ttl_at) or 0) >= ttl.refresh
    if refresh then set.ttl_at = now end
    local fields = {}
    for k, v in pairs(set) do fields[#fields + 1] = k; fields[#fields + 1] = v end
    redis.call('HSET', gk, unpack(fields))
    if refresh then redis.call('EXPIRE', gk, ttl.group) end
    if first_nx then due_nx[#due_nx + 1] = first_nx; due_nx[#due_nx + 1] = g.id end
    index[#index + 1] = last_ts
    index[#index + 1] = g.id
    -- history (bot/store/history.py): a ranking per bucket, tallies per service and bucket, a
    -- search entry and the service of each group
    local svc = g.meta.service or ''
    for b, c in pairs(per_bucket) do
      local bk = p.buckets[b]
      redis.call('ZINCRBY', KEYS[bk[1]], c, g.id)
      ranked[b] = true
      if bk[2] > 0 then tally(bk[2], svc, c) end
    end
    local nt = p.now_tally
    if is_new == 1 then
      tally(nt[1], 'n:' .. svc, 1)
      tally(nt[3], 'n:' .. svc, 1)
      searches[#searches + 1] = string.lower(g.meta.title or '') .. ' ' .. svc .. ' ' .. g.id
      searches[#searches + 1] = g.id
      services[#services + 1] = g.id
      services[#services + 1] = svc
    end
    if regressed == 1 then
      tally(nt[1], 'r:' .. svc, 1)
      tally(nt[3], 'r:' .. svc, 1)
    end
    out[#out + 1] = g.id
    out[#out + 1] = is_new
    out[#out + 1] = regressed
    out[#out + 1] = added
    out[#out + 1] = count
    out[#out + 1] = state
    out[#out + 1] = notify
  end
end

-- shard-level writes, once per key
call_chunked('ZADD', DUE, due_new, 2 * CHUNK)
call_chunked('ZADD', DUE, due_nx, 2 * CHUNK, 'NX')
call_chunked('ZADD', INDEX, index, 2 * CHUNK, 'GT')
for b in pairs(ranked) do
  local bk = p.buckets[b]
  redis.call('EXPIRE', KEYS[bk[1]], bk[3])
  if bk[2] > 0 and tallies[bk[2]] then redis.call('EXPIRE', KEYS[bk[2]], bk[3]) end
end
for ki, t in pairs(tallies) do
  for field, n in pairs(t) do redis.call('HINCRBY', KEYS[ki], field, n) end
end
local nt = p.now_tally
if tallies[nt[1]] then redis.call('EXPIRE', KEYS[nt[1]], nt[2]) end
if tallies[nt[3]] then redis.call('EXPIRE', KEYS[nt[3]], nt[4]) end
if #searches > 0 then
  call_chunked('HSET', SEARCH, searches, 2 * CHUNK)
  call_chunked('HSET', SERVICES, services, 2 * CHUNK)
  redis.call('EXPIRE', KEYS[SEARCH], ttl.group)
  redis.call('EXPIRE', KEYS[SERVICES], ttl.group)
end
-- shard-level keys live as long as their newest group; expired groups leave the index
redis.call('ZREMRANGEBYSCORE', KEYS[INDEX], '-inf', now - ttl.group)
redis.call('EXPIRE', KEYS[DUE], ttl.group)
redis.call('EXPIRE', KEYS[INDEX], ttl.group)
out[1] = dups
return out
