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
  local threads = {}
  function setup(thread)
    table.insert(threads, thread)
  end
  function init(args)
    counts = {}
  end
  function response(status, headers, body)
    counts[status] = (counts[status] or 0) + 1
  end
  function done(summary, latency, requests)
    local total = {}
    for _, t in ipairs(threads) do
      for status, n in pairs(t:get("counts")) do
        total[status] = (total[status] or 0) + n
      end
    end
    local parts = {}
    for status, n in pairs(total) do
      table.insert(parts, status .. ": " .. n)
    end
    table.sort(parts)
    io.write("Status counts: " .. table.concat(parts, ", ") .. "\n")
  end
end
