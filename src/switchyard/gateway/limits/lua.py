"""The Redis scripts behind ``RedisLimitStore``. Each runs atomically on the server, so a
check over every level and the taking of all of them (or none) is one round trip.

Requests and tokens are counted per level in slices of time, as ``MemoryLimitStore`` counts
them: a hash ``w`` holds each slice's counts (``r<slice>``, ``t<slice>``), their sums (``_r``,
``_t``) and the oldest slice held (``_f``), so an admission reads and writes a few fields
however many calls the window holds; a call is settled by adding to its slice what changed
(the process that admitted it remembers the slice, and settles a call once). Concurrency slots:
``c``, a sorted set of call id by lease expiry. Time is the Redis server's, one clock for every
process. The scripts turn numbers into strings as little as they can: in Redis's Lua, each
conversion costs about as much as a command.

The arguments travel as one JSON array (``ARGV[1]``) and the scripts make the keys from the
buckets' names: a call's levels live under different keys, so a script would not run on Redis
Cluster either way, and one argument instead of dozens is what makes a round trip cheap for
the client (redis-py encodes every argument in Python).
"""

# ARGV[1]: [prefix, call id, tokens needed, lease ms, window ms, slice ms, number of buckets,
# then per bucket: name, rpm, tpm, concurrency (-1: no limit), then optionally a rider: its own
# call id and one bucket, admitted on its own (all or none at its level) only when the call is.
# Returns refused level (1-based, 0: admitted), reason, retry-after ms, the call's slice, then
# per bucket: requests used, tokens used, ms to their resets; then, when the rider was checked,
# the same for it (refused 1 or 0, reason, retry-after ms, its bucket's four figures).

ADMIT = """
local now_t = redis.call('TIME')
local now = tonumber(now_t[1]) * 1000 + math.floor(tonumber(now_t[2]) / 1000)
local a = cjson.decode(ARGV[1])
local prefix, need, ttl, win, width = a[1], a[3], a[4], a[5], a[6]
local k = math.floor(now / width)  -- this call's slice
local lo = math.floor((now - win) / width)  -- the oldest slice still in the window
local ks = tostring(k)
local rk, tk = 'r' .. ks, 't' .. ks
local keep = win + 2 * width

-- A level's counts as of now, the slices that left the window dropped from its sums:
-- {key, oldest slice held (false: none), requests, tokens, this slice's requests, its tokens, changed}
local function window(wk)
  local got = redis.call('HMGET', wk, '_f', '_r', '_t', rk, tk)
  local f = tonumber(got[1])
  local w = {wk, f or false, tonumber(got[2]) or 0, tonumber(got[3]) or 0, tonumber(got[4]) or 0,
             tonumber(got[5]) or 0, false}
  while f and f < lo do
    local fs = tostring(f)
    local piece = redis.call('HMGET', wk, 'r' .. fs, 't' .. fs)
    if piece[1] then
      w[3] = w[3] - tonumber(piece[1])
      w[4] = w[4] - tonumber(piece[2])
      redis.call('HDEL', wk, 'r' .. fs, 't' .. fs)
    end
    f = f + 1
    while f <= k and redis.call('HEXISTS', wk, 'r' .. tostring(f)) == 0 do f = f + 1 end
    if f > k then f = false end
    w[2] = f
    w[7] = true
  end
  return w
end

local function admit(call, first, n, out)
  local refused, reason, retry = 0, '', 0
  local levels = {}
  for i = 0, n - 1 do
    local at = first + i * 4
    local rpm, tpm, conc = a[at + 1], a[at + 2], a[at + 3]
    local used_r, used_t, reset_r, reset_t = 0, 0, 0, 0
    if rpm >= 0 or tpm >= 0 then
      local w = window(prefix .. a[at] .. ':w')
      levels[i] = w
      local f = w[2]
      local reset = 0
      if f then reset = (f + 1) * width + win - now end
      if rpm >= 0 then
        used_r = w[3]
        if used_r > 0 then reset_r = reset end
        if refused == 0 and used_r + 1 > rpm then
          refused, reason = i + 1, 'requests'
          if used_r > 0 then retry = reset_r else retry = win end
        end
      end
      if tpm >= 0 then
        used_t = w[4]
        if used_t > 0 then reset_t = reset end
        if refused == 0 and used_t + need > tpm then
          refused, reason, retry = i + 1, 'tokens', win
          if need <= tpm then
            local excess, freed, j = used_t + need - tpm, 0, f
            while j and j <= k do
              freed = freed + (tonumber(redis.call('HGET', w[1], 't' .. tostring(j))) or 0)
              if freed >= excess then
                retry = (j + 1) * width + win - now
                break
              end
              j = j + 1
            end
          end
        end
      end
    end
    if conc >= 0 then
      local ck = prefix .. a[at] .. ':c'
      redis.call('ZREMRANGEBYSCORE', ck, '-inf', now)
      if refused == 0 and redis.call('ZCARD', ck) + 1 > conc then
        refused, reason, retry = i + 1, 'concurrency', 1000
      end
    end
    out[#out + 1] = used_r
    out[#out + 1] = used_t
    out[#out + 1] = reset_r
    out[#out + 1] = reset_t
  end
  for i = 0, n - 1 do
    local w = levels[i]
    if refused == 0 then
      if w then
        local wk, f = w[1], w[2]
        if not f or f > k then f = ks end  -- none held, or the server's clock stepped back
        redis.call('HSET', wk, '_f', f, '_r', w[3] + 1, '_t', w[4] + need, rk, w[5] + 1, tk, w[6] + need)
        if w[5] == 0 then redis.call('PEXPIRE', wk, keep) end  -- a new slice: the key outlives it
      end
      local at = first + i * 4
      if a[at + 3] >= 0 then
        local ck = prefix .. a[at] .. ':c'
        redis.call('ZADD', ck, now + ttl, call)
        redis.call('PEXPIRE', ck, ttl * 2)
      end
    elseif w and w[7] then  -- refused, but slices left the window: their sums go
      redis.call('HSET', w[1], '_f', w[2] or ks, '_r', w[3], '_t', w[4])
    end
  end
  return refused, reason, retry
end

local n = a[7]
local result = {0, '', 0, k}
result[1], result[2], result[3] = admit(a[2], 8, n, result)
local rider = 8 + n * 4
if result[1] == 0 and #a > rider then
  local at = #result + 1
  result[at], result[at + 1], result[at + 2] = 0, '', 0
  result[at], result[at + 1], result[at + 2] = admit(a[rider], rider + 1, 1, result)
end
return result
"""

# Any number of ended calls at once. ARGV[1]: [prefix, window ms, slice ms, then per call: its
# slice (-1: none counted), what to add to its requests and to its tokens, the number of levels
# it was counted at and their names, then the number of levels it holds a slot at, their names,
# and its id]. A slice that has left the window is not touched.
SETTLE = """
local now_t = redis.call('TIME')
local now = tonumber(now_t[1]) * 1000 + math.floor(tonumber(now_t[2]) / 1000)
local a = cjson.decode(ARGV[1])
local prefix = a[1]
local lo = math.floor((now - a[2]) / a[3])
local j = 4
while j <= #a do
  local slice, dr, dt, n = a[j], a[j + 1], a[j + 2], a[j + 3]
  j = j + 4
  if slice >= lo and (dr ~= 0 or dt ~= 0) then
    local ss = tostring(slice)
    local rs, ts = 'r' .. ss, 't' .. ss
    for i = j, j + n - 1 do
      local wk = prefix .. a[i] .. ':w'
      if dr ~= 0 then
        redis.call('HINCRBY', wk, rs, dr)
        redis.call('HINCRBY', wk, '_r', dr)
      end
      if dt ~= 0 then
        redis.call('HINCRBY', wk, ts, dt)
        redis.call('HINCRBY', wk, '_t', dt)
      end
    end
  end
  j = j + n
  local m = a[j]
  local call = a[j + m + 1]
  for i = j + 1, j + m do redis.call('ZREM', prefix .. a[i] .. ':c', call) end
  j = j + m + 2
end
return 0
"""

# KEYS: concurrency keys; ARGV: ttl ms, then one call id per key. Extends live leases only.
RENEW = """
local now_t = redis.call('TIME')
local now = tonumber(now_t[1]) * 1000 + math.floor(tonumber(now_t[2]) / 1000)
local ttl = tonumber(ARGV[1])
for i = 1, #KEYS do
  redis.call('ZADD', KEYS[i], 'XX', now + ttl, ARGV[i + 1])
  redis.call('PEXPIRE', KEYS[i], ttl * 2)
end
return 0
"""
