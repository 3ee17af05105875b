-- wrk script: GET (the URL given to wrk) with a bearer token.
--   BENCH_TOKEN   the access token (required)
--   BENCH_COUNT=1 count responses by status and print them at the end (costs wrk some CPU, so
--                 off by default for peak runs; wrk itself reports "Non-2xx or 3xx responses")
-- usage: BENCH_TOKEN=... wrk -t1 -c32 -d10s --latency -s bench/lua/bearer.lua URL
local token = os.getenv("BENCH_TOKEN")
if token == nil or token == "" then
  error("bearer.lua: set BENCH_TOKEN to an access token")
end
wrk.headers["Authorization"] = "Bearer " .. token

if os.getenv("BENCH_COUNT") == "1" then
  local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
  dofile(here .. "status_counts.lua")
  CountStatuses("")
end
