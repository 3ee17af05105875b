-- Shared by the wrk scripts of this folder, loaded with dofile: counts the answers by HTTP status
-- in every wrk thread and prints "Status counts: 200: n, 404: m<suffix>" when wrk is done.
-- CountStatuses(suffix) defines wrk's setup(), init(), response() and done(); a script that
-- calls it defines none of them itself. Counting costs wrk some CPU per response.
function CountStatuses(suffix)
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
    io.write("Status counts: " .. table.concat(parts, ", ") .. suffix .. "\n")
  end
end
