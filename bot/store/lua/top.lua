-- The n groups with the most occurrences over some buckets of one shard, of all services or
-- of one.
-- KEYS[1] cache key for the union of the closed buckets, KEYS[2] gid -> service hash,
-- KEYS[3 .. 2+nclosed] closed buckets (earlier hours/days: they rarely change),
-- KEYS[3+nclosed] the open bucket (the current one). All share the shard's hash tag.
-- ARGV: n, nclosed, cache_ttl, service ('' for all). Returns {gid, count, ...}, highest first
-- (ties: the greater gid first, as ZREVRANGE orders them).
-- The closed buckets' union is cached for cache_ttl seconds. A group's count is its score in
-- the union plus its score in the open bucket, so the top n are among the union's top n (of
-- the service; with ties) and the open bucket's members: those are scored, not all groups.
local n, nclosed, ttl, service = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local cache, open = KEYS[1], KEYS[3 + nclosed]
if nclosed > 0 and redis.call('EXISTS', cache) == 0 then
  local closed = {}
  for i = 3, 2 + nclosed do closed[#closed + 1] = KEYS[i] end
  redis.call('ZUNIONSTORE', cache, #closed, unpack(closed))
  redis.call('EXPIRE', cache, ttl)
end

-- gid -> true for those of `service` (all when service is '')
local function of_service(gids)
  local keep = {}
  if service == '' then
    for _, g in ipairs(gids) do keep[g] = true end
  elseif #gids > 0 then
    local svcs = redis.call('HMGET', KEYS[2], unpack(gids))
    for i, g in ipairs(gids) do
      if svcs[i] == service then keep[g] = true end
    end
  end
  return keep
end

local total = {} -- candidate gid -> count
-- the union's top n of the service, and every further member tied with the last of them
if nclosed > 0 then
  local found, last, start = 0, nil, 0
  local step = service == '' and n or math.max(n * 20, 200)
  while true do
    local page = redis.call('ZREVRANGE', cache, start, start + step - 1, 'WITHSCORES')
    if #page == 0 then break end
    local gids = {}
    for i = 1, #page, 2 do gids[#gids + 1] = page[i] end
    local keep = of_service(gids)
    local done = false
    for i = 1, #page, 2 do
      local score = tonumber(page[i + 1])
      if found >= n and score < last then done = true; break end
      if keep[page[i]] then
        total[page[i]] = score
        found, last = found + 1, score
      end
    end
    if done then break end
    start = start + step
  end
end
-- the open bucket's members of the service, with their union scores
local page = redis.call('ZRANGE', open, 0, -1, 'WITHSCORES')
if #page > 0 then
  local gids, counts = {}, {}
  for i = 1, #page, 2 do gids[#gids + 1] = page[i]; counts[page[i]] = tonumber(page[i + 1]) end
  local keep = of_service(gids)
  local mine = {}
  for _, g in ipairs(gids) do if keep[g] then mine[#mine + 1] = g end end
  local before = {}
  if nclosed > 0 and #mine > 0 then
    for i = 1, #mine, 1000 do
      local part = {}
      for j = i, math.min(i + 999, #mine) do part[#part + 1] = mine[j] end
      local scores = redis.call('ZMSCORE', cache, unpack(part))
      for j, g in ipairs(part) do before[g] = tonumber(scores[j]) or 0 end
    end
  end
  for _, g in ipairs(mine) do total[g] = (before[g] or total[g] or 0) + counts[g] end
end
local ranked = {}
for g, c in pairs(total) do ranked[#ranked + 1] = {g, c} end
table.sort(ranked, function(a, b)
  if a[2] ~= b[2] then return a[2] > b[2] end
  return a[1] > b[1]
end)
local out = {}
for i = 1, math.min(n, #ranked) do
  out[#out + 1] = ranked[i][1]
  out[#out + 1] = tostring(ranked[i][2])
end
return out
