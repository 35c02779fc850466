-- Requests for wrk, read from a file: one per line, tab-separated METHOD PATH COOKIE BODY.
-- Each wrk thread takes every n-th line, so no two threads send the same request, and cycles
-- through its share; responses with another status than the expected one are counted; `done`
-- prints the figures (latencies in ms: p50, p95, p99 and the mean) as one JSON line. Usage:
--   wrk -t2 -c8 -d8s -s bench/wrk.lua http://127.0.0.1:PORT -- FILE ORIGIN THREADS STATUS

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local file, origin, total = args[1], args[2], tonumber(args[3])
  expected = tonumber(args[4])
  requests = {}
  unexpected = 0
  sent = 0
  position = 0
  local lines = {}
  for line in io.lines(file) do
    table.insert(lines, line)
  end
  -- With fewer requests than threads, every thread sends all of them.
  local share = #lines >= total
  for index, line in ipairs(lines) do
    local method, path, cookie, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)$")
    if method and (not share or (index - 1) % total == id) then
      local headers = {["X-Forwarded-Proto"] = "https", ["Origin"] = origin}
      if cookie ~= "" then headers["Cookie"] = cookie end
      if method == "POST" then headers["Content-Type"] = "application/x-www-form-urlencoded" end
      table.insert(requests, wrk.format(method, path, headers, body ~= "" and body or nil))
    end
  end
  distinct = #requests
end

function request()
  position = position % #requests + 1
  sent = sent + 1
  return requests[position]
end

function response(status, headers, body)
  if status ~= expected then
    unexpected = unexpected + 1
  end
end

function done(summary, latency, requests_summary)
  local unexpected_total, sent_total, distinct_total = 0, 0, 0
  for _, thread in ipairs(threads) do
    unexpected_total = unexpected_total + thread:get("unexpected")
    sent_total = sent_total + thread:get("sent")
    distinct_total = distinct_total + thread:get("distinct")
  end
  local seconds = summary.duration / 1e6
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "rps": %.2f, "p50_ms": %.3f, "p95_ms": %.3f, ' ..
    '"p99_ms": %.3f, "mean_ms": %.3f, "unexpected_status": %d, "socket_errors": %d, ' ..
    '"sent": %d, "distinct": %d}\n',
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.mean / 1000,
    unexpected_total, errors.connect + errors.read + errors.write + errors.timeout,
    sent_total, distinct_total))
end
