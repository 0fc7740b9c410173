"""The Redis scripts behind ``RedisLimitStore``. Each runs atomically on the server, so a
check over every level and the taking of all of them (or none) is one round trip.

Per bucket four keys: ``r`` (sorted set: call id by admission time, ms), ``t`` (sorted set:
call id by admission time) with ``a`` (hash: call id -> tokens, plus ``_sum``), and ``c``
(sorted set: call id by lease expiry). Time is the Redis server's, one clock for every process.

The arguments travel as one JSON array (``ARGV[1]``) and the scripts make the keys from the
buckets' names: a call's levels live under different keys, so a script would not run on Redis
Cluster either way, and one argument instead of dozens is what makes a round trip cheap for
the client (redis-py encodes every argument in Python).
"""

# ARGV[1]: [prefix, call id, tokens needed, lease ms, window ms, number of buckets, then per
# bucket: name, rpm, tpm, concurrency (-1: no limit), then optionally a rider: its own call id
# and one bucket, admitted on its own (all or none at its level) only when the call is.
# Returns refused level (1-based, 0: admitted), reason, retry-after ms, then per bucket:
# requests used, tokens used, ms to their resets; then, when the rider was checked, the same
# for it (refused 1 or 0, reason, retry-after ms, its bucket's four figures).

ADMIT = """
local now_t = redis.call('TIME')
local now = tonumber(now_t[1]) * 1000 + math.floor(tonumber(now_t[2]) / 1000)
local a = cjson.decode(ARGV[1])
local prefix, need, ttl, win = a[1], a[3], a[4], a[5]
local CHUNK = 1000

local function admit(call, first, n, out)
  local refused, reason, retry = 0, '', 0
  for i = 0, n - 1 do
    local at = first + i * 4
    local base = prefix .. a[at]
    local rk, tk, ak, ck = base .. ':r', base .. ':t', base .. ':a', base .. ':c'
    local rpm, tpm, conc = a[at + 1], a[at + 2], a[at + 3]
    local used_r, used_t, reset_r, reset_t = 0, 0, 0, 0
    if rpm >= 0 then
      redis.call('ZREMRANGEBYSCORE', rk, '-inf', now - win)
      used_r = redis.call('ZCARD', rk)
      local oldest = redis.call('ZRANGE', rk, 0, 0, 'WITHSCORES')
      if oldest[2] then reset_r = tonumber(oldest[2]) + win - now end
      if refused == 0 and used_r + 1 > rpm then
        refused, reason = i + 1, 'requests'
        if used_r > 0 then retry = reset_r else retry = win end
      end
    end
    if tpm >= 0 then
      local gone = redis.call('ZRANGEBYSCORE', tk, '-inf', now - win)
      if #gone > 0 then
        local freed = 0
        for s = 1, #gone, CHUNK do  -- unpack() fails past ~8,000 values
          local e = math.min(s + CHUNK - 1, #gone)
          local amounts = redis.call('HMGET', ak, unpack(gone, s, e))
          for _, amount in ipairs(amounts) do if amount then freed = freed + tonumber(amount) end end
          redis.call('HDEL', ak, unpack(gone, s, e))
        end
        redis.call('HINCRBY', ak, '_sum', -freed)
        redis.call('ZREMRANGEBYSCORE', tk, '-inf', now - win)
      end
      used_t = tonumber(redis.call('HGET', ak, '_sum') or '0')
      local oldest = redis.call('ZRANGE', tk, 0, 0, 'WITHSCORES')
      if oldest[2] then reset_t = tonumber(oldest[2]) + win - now end
      if refused == 0 and used_t + need > tpm then
        refused, reason, retry = i + 1, 'tokens', win
        if need <= tpm then
          local excess = used_t + need - tpm
          local entries = redis.call('ZRANGE', tk, 0, -1, 'WITHSCORES')
          local freed = 0
          for j = 1, #entries, 2 do
            freed = freed + tonumber(redis.call('HGET', ak, entries[j]) or '0')
            if freed >= excess then
              retry = tonumber(entries[j + 1]) + win - now
              break
            end
          end
        end
      end
    end
    if conc >= 0 then
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
  if refused == 0 then
    for i = 0, n - 1 do
      local at = first + i * 4
      local base = prefix .. a[at]
      if a[at + 1] >= 0 then
        local rk = base .. ':r'
        redis.call('ZADD', rk, now, call)
        redis.call('PEXPIRE', rk, win)
      end
      if a[at + 2] >= 0 then
        local tk, ak = base .. ':t', base .. ':a'
        redis.call('ZADD', tk, now, call)
        redis.call('HSET', ak, call, need)
        redis.call('HINCRBY', ak, '_sum', need)
        redis.call('PEXPIRE', tk, win)
        redis.call('PEXPIRE', ak, win)
      end
      if a[at + 3] >= 0 then
        local ck = base .. ':c'
        redis.call('ZADD', ck, now + ttl, call)
        redis.call('PEXPIRE', ck, ttl * 2)
      end
    end
  end
  return refused, reason, retry
end

local n = a[6]
local out = {}
local refused, reason, retry = admit(a[2], 7, n, out)
local result = {refused, reason, retry}
for _, figure in ipairs(out) do table.insert(result, figure) end
local rider = 7 + n * 4
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

# Any number of ended calls at once. ARGV[1]: [prefix, then per call: its id, its real tokens
# (-1 keeps the reservation; -2 takes the admission back whole: its request, its tokens and
# its slot, for an admission never used), its number of buckets, and their names].
SETTLE = """
local a = cjson.decode(ARGV[1])
local prefix = a[1]
local j = 2
while j <= #a do
  local call, real, count = a[j], a[j + 1], a[j + 2]
  for i = j + 3, j + 2 + count do
    local ak, ck = prefix .. a[i] .. ':a', prefix .. a[i] .. ':c'
    if real == -2 then
      redis.call('ZREM', prefix .. a[i] .. ':r', call)
      local held = redis.call('HGET', ak, call)
      if held then
        redis.call('HDEL', ak, call)
        redis.call('HINCRBY', ak, '_sum', -tonumber(held))
        redis.call('ZREM', prefix .. a[i] .. ':t', call)
      end
    elseif real >= 0 then
      local held = redis.call('HGET', ak, call)
      if held then
        redis.call('HSET', ak, call, real)
        redis.call('HINCRBY', ak, '_sum', real - tonumber(held))
      end
    end
    redis.call('ZREM', ck, call)
  end
  j = j + 3 + count
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
