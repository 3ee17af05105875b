-- wrk script: POST /api/v1/rfid/verify {"cardNumber": ...} as kitchen staff, counting the
-- answers by status. rfid-verify delivers an order once: the first scan of a card whose student
-- has a paid order today answers 200, every later scan of it 409 ALREADY_DELIVERED (a correct
-- business answer that wrk counts as "Non-2xx"); cards without an order today answer 404
-- NO_ORDER_TODAY, inactive/expired cards 422. The status counts printed at the end say which
-- paths the latency figures cover.
--   BENCH_TOKEN   access token of a kitchen_staff (or school_admin) of the cards' school
--   BENCH_CARDS   comma-separated card numbers, scanned in rotation by the connections of a
--                 wrk thread; or BENCH_CARDS_FILE, a file of them (comma- or newline-separated:
--                 an environment variable holds at most 128 KiB); or BENCH_CARD, one card
--   BENCH_READER  optional readerId sent with every scan
-- usage: BENCH_TOKEN=... BENCH_CARDS=RFID-A,RFID-B wrk -t1 -c32 -d10s --latency \
--          -s bench/lua/rfid.lua http://127.0.0.1:PORT
local token = os.getenv("BENCH_TOKEN")
if token == nil or token == "" then
  error("rfid.lua: set BENCH_TOKEN to a kitchen staff access token")
end
local list = os.getenv("BENCH_CARDS") or os.getenv("BENCH_CARD") or ""
local cards_file = os.getenv("BENCH_CARDS_FILE")
if cards_file ~= nil and cards_file ~= "" then
  local f = io.open(cards_file, "r")
  if f == nil then
    error("rfid.lua: cannot read BENCH_CARDS_FILE " .. cards_file)
  end
  list = f:read("*a")
  f:close()
end
local cards = {}
for card in string.gmatch(list, "[^,%s]+") do
  if not card:match("^RFID%-[A-Z0-9-]+$") then
    error("rfid.lua: not a card number: " .. card:sub(1, 80))
  end
  table.insert(cards, card)
end
if #cards == 0 then
  error("rfid.lua: set BENCH_CARDS (comma-separated), BENCH_CARDS_FILE or BENCH_CARD")
end
local reader = os.getenv("BENCH_READER")

wrk.method = "POST"
wrk.path = "/api/v1/rfid/verify"
wrk.headers["Authorization"] = "Bearer " .. token
wrk.headers["Content-Type"] = "application/json"

-- Bodies built once; card numbers were checked above, so they need no JSON escaping.
local bodies = {}
for i, card in ipairs(cards) do
  if reader ~= nil and reader ~= "" then
    bodies[i] = '{"cardNumber":"' .. card .. '","readerId":"' .. reader .. '"}'
  else
    bodies[i] = '{"cardNumber":"' .. card .. '"}'
  end
end

-- One rotation per wrk thread, shared by its connections (each thread has its own Lua state).
local next_index = 1

function request()
  local body = bodies[next_index]
  next_index = next_index % #bodies + 1
  return wrk.format(nil, nil, nil, body)
end

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "status_counts.lua")
CountStatuses(" (" .. #cards .. " cards)")
