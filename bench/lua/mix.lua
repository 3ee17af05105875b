-- wrk script: one parent's realistic read/write mix, for the cache hit rate and p99 of issue 5.
-- Mostly reads of what a parent's app shows (the orders list, the day's menu of the child's
-- school, their own profile); a few writes that invalidate: POST /api/v1/orders for the child on a
-- future weekday with one item of that day's published menu. The request after each write is the
-- orders list, the read the write made stale (the app reloading it).
--   BENCH_TOKEN          the parent's access token (required)
--   BENCH_SCHOOL_ID      the child's school (required), for GET /menus/daily
--   BENCH_MENU_DATE      YYYY-MM-DD with a published menu (required), for GET /menus/daily
--   BENCH_STUDENT_ID     the child ordered for (required)
--   BENCH_ORDER_DATE     YYYY-MM-DD, a weekday from tomorrow to 30 days ahead (required)
--   BENCH_MENU_ITEM_ID   an item of BENCH_ORDER_DATE's published menu without a stock limit
--                        (required)
--   BENCH_WRITE_PERCENT  share of writes, 0 to 50 (default 3)
--   BENCH_ORDERS_LIMIT   limit of the orders list (default 20)
--   BENCH_COUNT=1        count responses by status and print them at the end (201: orders created)
-- The sequence is fixed, not random, so two runs offer the same mix: every round of
-- 100 / BENCH_WRITE_PERCENT requests (rounded) has one write, followed by the orders list, the
-- menu, the profile, the orders list, ... Each wrk thread keeps its own rotation, shared by its
-- connections.
-- usage: BENCH_TOKEN=... BENCH_SCHOOL_ID=... BENCH_MENU_DATE=... BENCH_STUDENT_ID=... \
--          BENCH_ORDER_DATE=... BENCH_MENU_ITEM_ID=... \
--          wrk -t1 -c32 -d10s --latency -s bench/lua/mix.lua http://127.0.0.1:PORT
local function required(name, pattern)
  local value = os.getenv(name)
  if value == nil or value == "" then
    error("mix.lua: set " .. name)
  end
  if not value:match(pattern) then
    error("mix.lua: " .. name .. " is malformed: " .. value:sub(1, 80))
  end
  return value
end

local uuid = "^[%x-]+$"
local date = "^%d%d%d%d%-%d%d%-%d%d$"
local token = required("BENCH_TOKEN", "^[%w._~+/=-]+$")
local school_id = required("BENCH_SCHOOL_ID", uuid)
local menu_date = required("BENCH_MENU_DATE", date)
local student_id = required("BENCH_STUDENT_ID", uuid)
local order_date = required("BENCH_ORDER_DATE", date)
local item_id = required("BENCH_MENU_ITEM_ID", uuid)

local write_percent = tonumber(os.getenv("BENCH_WRITE_PERCENT") or "3")
if write_percent == nil or write_percent < 0 or write_percent > 50 then
  error("mix.lua: BENCH_WRITE_PERCENT must be a number from 0 to 50")
end
local orders_limit = tonumber(os.getenv("BENCH_ORDERS_LIMIT") or "20")
if orders_limit == nil or orders_limit < 1 or orders_limit > 100 or orders_limit % 1 ~= 0 then
  error("mix.lua: BENCH_ORDERS_LIMIT must be an integer from 1 to 100")
end

wrk.headers["Authorization"] = "Bearer " .. token

-- Requests formatted once, on the first request (wrk.host is known by then); the values were
-- checked above, so they need no escaping. wrk.format does not merge wrk.headers into a headers
-- table it is given, hence the token again on the write.
local reads, create_order
local function build()
  reads = {
    wrk.format("GET", "/api/v1/orders?limit=" .. orders_limit),
    wrk.format("GET", "/api/v1/menus/daily?schoolId=" .. school_id .. "&date=" .. menu_date),
    wrk.format("GET", "/api/v1/users/me"),
  }
  create_order = wrk.format("POST", "/api/v1/orders",
    {["Host"] = wrk.host, ["Authorization"] = "Bearer " .. token,
     ["Content-Type"] = "application/json"},
    '{"studentId":"' .. student_id .. '","deliveryDate":"' .. order_date ..
    '","items":[{"menuItemId":"' .. item_id .. '","quantity":1}]}')
end

-- 0: no writes; otherwise one write every `period` requests.
local period = 0
if write_percent > 0 then
  period = math.max(2, math.floor(100 / write_percent + 0.5))
end

local position = 0
function request()
  if reads == nil then
    build()
  end
  position = position + 1
  if period > 0 and position % period == 0 then
    return create_order
  end
  -- Position within the round: right after a write (1) comes the orders list.
  local in_round = period > 0 and (position % period) or position
  return reads[(in_round - 1) % #reads + 1]
end

if os.getenv("BENCH_COUNT") == "1" then
  local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
  dofile(here .. "status_counts.lua")
  CountStatuses(" (one write every " .. (period > 0 and period or "-") .. " requests)")
end
