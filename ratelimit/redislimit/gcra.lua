-- One GCRA check of one key, atomically, in one round trip.
-- KEYS[1]: the key, holding its TAT in microseconds since the Unix epoch.
-- ARGV[1]: the interval one request costs, in microseconds.
-- ARGV[2]: the burst: interval * limit.
-- ARGV[3]: now in microseconds, or -1 to take Redis's own clock, which
--          every node shares.
-- Returns {allowed (0 or 1), TAT after the check, now}.
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
if now < 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local tat = tonumber(redis.call('GET', KEYS[1]))
if tat == nil or tat < now then
  tat = now
end
local nxt = tat + interval
if nxt - now > burst then
  return {0, tat, now}
end
-- The key expires when its whole budget is back: then it is the same as a
-- key never seen.
redis.call('SET', KEYS[1], string.format('%.0f', nxt), 'PX', math.ceil((nxt - now) / 1000))
return {1, nxt, now}
