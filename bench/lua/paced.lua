-- wrk script: paces every connection to one request per BENCH_PACE_MS (default 10 ms) using
-- wrk's delay(), so `wrk -c10` offers about 10 x 1000/10 = 1 000 requests/s (a little less:
-- each connection waits the pause after its previous response). For "p99 under a fixed load".
-- The request itself comes from another script in this folder, named by BENCH_INNER
-- (default bearer.lua; rfid.lua for rfid-verify), with that script's environment variables.
-- usage: BENCH_TOKEN=... wrk -t1 -c10 -d15s --latency -s bench/lua/paced.lua URL
--        BENCH_INNER=rfid.lua BENCH_TOKEN=... BENCH_CARDS=... wrk ... -s bench/lua/paced.lua URL
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local inner = os.getenv("BENCH_INNER") or "bearer.lua"
if not inner:match("^[%w_.-]+%.lua$") or inner == "paced.lua" then
  error("paced.lua: BENCH_INNER must name another script in " .. here)
end
dofile(here .. inner)

local pace_ms = tonumber(os.getenv("BENCH_PACE_MS") or "10")
if pace_ms == nil or pace_ms < 0 then
  error("paced.lua: BENCH_PACE_MS must be a number of milliseconds")
end
function delay()
  return pace_ms
end
