-- The n groups with the most occurrences over some buckets of one shard, of all services or
-- of one.
-- KEYS[1] cache key for the union of the closed buckets, KEYS[2] gid -> service hash,
-- KEYS[3 .. 2+nclosed] closed buckets (earlier hours/days: they rarely change),
-- KEYS[3+nclosed] the open bucket (the current one). All share the shard's hash tag.
-- ARGV: n, nclosed, cache_ttl, service ('' for all). Returns {gid, count, ...}, highest first
-- (ties: the greater gid first, as ZREVRANGE orders them).
-- The closed buckets' union is cached for cache_ttl seconds. A group's count is its score in
-- the union plus its score in the open bucket; the top n are found by reading both sets from
-- the top down only as far as a group not read yet could still enter them (below).
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

local total = {} -- candidate gid -> count in the window (union score + open score)
-- Fagin's threshold algorithm over the two sorted sets: a group seen in neither the union's
-- top nor the open bucket's pages read so far has at most ubound + obound, so once the n-th
-- candidate is above that, no unseen group can enter the top n (a 7d window's open bucket,
-- today, holds most groups: it is read only as far as needed).
local ubound = 0 -- the union score an unseen group of the service can have at most
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
      if found >= n and score < last then done = true; ubound = score; break end
      if keep[page[i]] then
        total[page[i]] = score
        found, last = found + 1, score
      end
    end
    if done then break end
    start = start + step
  end
  -- the union's candidates also count what they have in the open bucket
  local cands = {}
  for g in pairs(total) do cands[#cands + 1] = g end
  for i = 1, #cands, 1000 do
    local part = {}
    for j = i, math.min(i + 999, #cands) do part[#part + 1] = cands[j] end
    local scores = redis.call('ZMSCORE', open, unpack(part))
    for j, g in ipairs(part) do total[g] = total[g] + (tonumber(scores[j]) or 0) end
  end
end

-- the n-th best total so far (nil when fewer than n candidates)
local function nth_total()
  local counts = {}
  for _, c in pairs(total) do counts[#counts + 1] = c end
  if #counts < n then return nil end
  table.sort(counts, function(a, b) return a > b end)
  return counts[n]
end

-- the open bucket, highest first, page by page, until no unseen group can reach the top n
local start, step = 0, math.max(n * 20, 200)
while true do
  local page = redis.call('ZREVRANGE', open, start, start + step - 1, 'WITHSCORES')
  if #page == 0 then break end
  local gids, counts = {}, {}
  for i = 1, #page, 2 do gids[#gids + 1] = page[i]; counts[page[i]] = tonumber(page[i + 1]) end
  local keep = of_service(gids)
  local mine = {}
  for _, g in ipairs(gids) do if keep[g] and total[g] == nil then mine[#mine + 1] = g end end
  if #mine > 0 then
    local before = {}
    if nclosed > 0 then
      local scores = redis.call('ZMSCORE', cache, unpack(mine))
      for j, g in ipairs(mine) do before[g] = tonumber(scores[j]) or 0 end
    end
    for _, g in ipairs(mine) do total[g] = (before[g] or 0) + counts[g] end
  end
  if #page < 2 * step then break end
  local obound = tonumber(page[#page])
  local nth = nth_total()
  if nth ~= nil and nth > ubound + obound then break end
  start = start + step
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
