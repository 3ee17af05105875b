-- wrk script: a fixed offered load, for "p99 under about 1 000 requests/s". Two ways, both
-- through wrk's delay() (milliseconds to wait before a connection sends its next request):
--   BENCH_RATE=R    the connections of a wrk thread share one schedule of R requests/s: each
--                   delay() takes the next free slot (1000/R ms after the previous one, never in
--                   the past, so a slow server is not hit by a catch-up burst). `wrk -t1 -c10`
--                   with BENCH_RATE=1000 offers 1 000 requests/s as long as ten connections are
--                   enough to carry them. bench/functions.sh uses this.
--   BENCH_PACE_MS=P (when BENCH_RATE is unset; default 10) every connection pauses P ms after
--                   each response, so `wrk -c10` offers a little under 10 x 1000/P requests/s:
--                   10 / (P ms + latency) in fact.
-- The request itself comes from another script in this folder, named by BENCH_INNER
-- (default bearer.lua; rfid.lua for rfid-verify), with that script's environment variables.
-- usage: BENCH_RATE=1000 BENCH_TOKEN=... wrk -t1 -c10 -d15s --latency -s bench/lua/paced.lua URL
--        BENCH_INNER=rfid.lua BENCH_TOKEN=... BENCH_CARDS=... wrk ... -s bench/lua/paced.lua URL
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local inner = os.getenv("BENCH_INNER") or "bearer.lua"
if not inner:match("^[%w_.-]+%.lua$") or inner == "paced.lua" then
  error("paced.lua: BENCH_INNER must name another script in " .. here)
end
dofile(here .. inner)

local rate = os.getenv("BENCH_RATE")
if rate ~= nil and rate ~= "" then
  rate = tonumber(rate)
  if rate == nil or rate <= 0 then
    error("paced.lua: BENCH_RATE must be a positive number of requests/s")
  end
  local ffi = require("ffi")
  ffi.cdef [[
    typedef struct { long tv_sec; long tv_nsec; } bench_paced_timespec;
    int clock_gettime(int clock_id, bench_paced_timespec* ts);
  ]]
  local ts = ffi.new("bench_paced_timespec")
  local function now_ms()
    ffi.C.clock_gettime(1, ts)  -- CLOCK_MONOTONIC
    return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
  end
  local interval = 1000 / rate
  local next_slot = 0
  function delay()
    local now = now_ms()
    next_slot = math.max(now, next_slot + interval)
    return math.floor(next_slot - now + 0.5)
  end
else
  local pace_ms = tonumber(os.getenv("BENCH_PACE_MS") or "10")
  if pace_ms == nil or pace_ms < 0 then
    error("paced.lua: BENCH_PACE_MS must be a number of milliseconds")
  end
  function delay()
    return pace_ms
  end
end
