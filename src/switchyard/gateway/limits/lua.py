"""The Redis scripts behind ``RedisLimitStore``. Each runs atomically on the server, so a
check over every level and the taking of all of them (or none) is one round trip.

Requests and tokens are counted per level in slices of time, as ``MemoryLimitStore`` counts
them: a hash ``w`` holds each slice's counts (``r<slice>``, ``t<slice>``), their sums (``_r``,
``_t``) and the oldest slice held (``_f``), so an admission reads and writes a few fields
however many calls the window holds. ``h<slice>`` (a hash: call id -> tokens held) lets a call
be settled once; it expires with its slice. Concurrency slots: ``c``, a sorted set of call id by
lease expiry. Time is the Redis server's, one clock for every process.

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
local keep = win + 2 * width

-- A level's counts as of now: the slices that left the window dropped from its sums.
local function window(wk)
  local got = redis.call('HMGET', wk, '_f', '_r', '_t', 'r' .. k, 't' .. k)
  local f = tonumber(got[1])  -- its oldest slice, nil: it holds none
  local w = {wk = wk, f = f, r = tonumber(got[2]) or 0, t = tonumber(got[3]) or 0,
             kr = tonumber(got[4]) or 0, kt = tonumber(got[5]) or 0, moved = false}
  while f and f < lo do
    local piece = redis.call('HMGET', wk, 'r' .. f, 't' .. f)
    if piece[1] then
      w.r = w.r - tonumber(piece[1])
      w.t = w.t - tonumber(piece[2])
      redis.call('HDEL', wk, 'r' .. f, 't' .. f)
    end
    f = f + 1
    while f <= k and redis.call('HEXISTS', wk, 'r' .. f) == 0 do f = f + 1 end
    if f > k then f = nil end
    w.moved = true
  end
  w.f = f
  return w
end

local function admit(call, first, n, out)
  local refused, reason, retry = 0, '', 0
  local levels = {}
  for i = 0, n - 1 do
    local at = first + i * 4
    local base = prefix .. a[at]
    local rpm, tpm, conc = a[at + 1], a[at + 2], a[at + 3]
    local used_r, used_t, reset_r, reset_t = 0, 0, 0, 0
    if rpm >= 0 or tpm >= 0 then
      local w = window(base .. ':w')
      levels[i] = w
      local reset = 0
      if w.f then reset = (w.f + 1) * width + win - now end
      if rpm >= 0 then
        used_r = w.r
        if used_r > 0 then reset_r = reset end
        if refused == 0 and used_r + 1 > rpm then
          refused, reason = i + 1, 'requests'
          if used_r > 0 then retry = reset_r else retry = win end
        end
      end
      if tpm >= 0 then
        used_t = w.t
        if used_t > 0 then reset_t = reset end
        if refused == 0 and used_t + need > tpm then
          refused, reason, retry = i + 1, 'tokens', win
          if need <= tpm then
            local excess, freed, j = used_t + need - tpm, 0, w.f
            while j and j <= k do
              freed = freed + tonumber(redis.call('HGET', w.wk, 't' .. j) or '0')
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
      local ck = base .. ':c'
      redis.call('ZREMRANGEBYSCORE', ck, '-inf', now)
      if refused == 0 and redis.call('ZCARD', ck) + 1 > conc then
        refused, reason, retry = i + 1, 'concurrency', 1000
      end
    end
    table.insert(out, used_r)
    table.insert(out, used_t)
    table.insert(out, reset_r)
    table.insert(out, reset_t)
  end
  for i = 0, n - 1 do
    local at = first + i * 4
    local w = levels[i]
    if refused == 0 then
      if w then
        redis.call('HSET', w.wk, '_f', w.f or k, '_r', w.r + 1, '_t', w.t + need,
                   'r' .. k, w.kr + 1, 't' .. k, w.kt + need)
        local hk = prefix .. a[at] .. ':h' .. k  -- what each call of the slice holds, for settling it once
        redis.call('HSET', hk, call, need)
        if w.kr == 0 then  -- the slice's first call: both keys live at least as long as the slice
          redis.call('PEXPIRE', w.wk, keep)
          redis.call('PEXPIRE', hk, keep)
        end
      end
      if a[at + 3] >= 0 then
        local ck = prefix .. a[at] .. ':c'
        redis.call('ZADD', ck, now + ttl, call)
        redis.call('PEXPIRE', ck, ttl * 2)
      end
    elseif w and w.moved then
      if w.f then
        redis.call('HSET', w.wk, '_f', w.f, '_r', w.r, '_t', w.t)
      else
        redis.call('DEL', w.wk)
      end
    end
  end
  return refused, reason, retry
end

local n = a[7]
local out = {}
local refused, reason, retry = admit(a[2], 8, n, out)
local result = {refused, reason, retry, k}
for _, figure in ipairs(out) do table.insert(result, figure) end
local rider = 8 + n * 4
if refused == 0 and #a > rider then
  local rider_out = {}
  local r_refused, r_reason, r_retry = admit(a[rider], rider + 1, 1, rider_out)
  table.insert(result, r_refused)
  table.insert(result, r_reason)
  table.insert(result, r_retry)
  for _, figure in ipairs(rider_out) do table.insert(result, figure) end
end
return result
"""

# Any number of ended calls at once. ARGV[1]: [prefix, then per call: its id, its slice (-1:
# unknown, only its slots are freed), its real tokens (-1 keeps the reservation; -2 takes the
# admission back whole: its request, its tokens and its slot, for an admission never used), its
# number of buckets, and their names]. Settling a call again changes nothing.
SETTLE = """
local a = cjson.decode(ARGV[1])
local prefix = a[1]
local j = 2
while j <= #a do
  local call, slice, real, count = a[j], a[j + 1], a[j + 2], a[j + 3]
  for i = j + 4, j + 3 + count do
    local base = prefix .. a[i]
    if slice >= 0 and real ~= -1 then
      local hk = base .. ':h' .. slice
      local held = redis.call('HGET', hk, call)
      if held then
        redis.call('HDEL', hk, call)
        local wk = base .. ':w'
        if redis.call('HEXISTS', wk, 'r' .. slice) == 1 then
          local d_t = real - tonumber(held)
          if real == -2 then
            d_t = -tonumber(held)
            redis.call('HINCRBY', wk, 'r' .. slice, -1)
            redis.call('HINCRBY', wk, '_r', -1)
          end
          if d_t ~= 0 then
            redis.call('HINCRBY', wk, 't' .. slice, d_t)
            redis.call('HINCRBY', wk, '_t', d_t)
          end
        end
      end
    end
    redis.call('ZREM', base .. ':c', call)
  end
  j = j + 4 + count
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
