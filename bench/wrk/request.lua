-- wrk script for bench/run.py. From the environment:
--   WRK_TOKEN   bearer token (sent when set)
--   WRK_METHOD  GET (default), POST, PATCH
--   WRK_PATHS   space-separated paths, requested in turn (default: the URL's path)
--   WRK_BODY    JSON body; "{n}" becomes a per-thread request counter
-- At the end it prints one line, WRK_JSON {...}, with the counts and latency percentiles.

local method = os.getenv("WRK_METHOD") or "GET"
local token = os.getenv("WRK_TOKEN")
local body = os.getenv("WRK_BODY")
local paths = {}
for path in string.gmatch(os.getenv("WRK_PATHS") or "", "%S+") do
  table.insert(paths, path)
end
local counter = 0

if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end
if body and body ~= "" then
  wrk.headers["Content-Type"] = "application/json"
end

request = function()
  counter = counter + 1
  local path = wrk.path
  if #paths > 0 then
    path = paths[(counter % #paths) + 1]
  end
  local payload = nil
  if body and body ~= "" then
    payload = string.gsub(body, "{n}", tostring(counter))
  end
  return wrk.format(method, path, nil, payload)
end

done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"non_2xx":%d,"connect":%d,"read":%d,' ..
    '"write":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, errors.status, errors.connect, errors.read,
    errors.write, errors.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max))
end
