-- wrk script for the load benchmark: keeps one session cookie per connection and reports exact numbers as JSON.
--
-- Arguments (after `--`): a file with one `Cookie` header value per line, or nothing. With a file, each request
-- carries the next session's cookie in turn (as many sessions as connections); without one, requests carry no cookie,
-- so every request on a session route makes a new session. wrk's Lua API does not say which connection a request
-- is for, so "a session per connection" is a pool of one session per connection, used round robin.
local requests = {}
local next_request = 1

function init(args)
  local path = args[1]
  if path ~= nil and path ~= "" then
    for line in io.lines(path) do
      if line ~= "" then
        requests[#requests + 1] = wrk.format(nil, nil, { Cookie = line, Host = wrk.headers["Host"] })
      end
    end
  end
  if #requests == 0 then
    requests[1] = wrk.format()
  end
end

function request()
  local r = requests[next_request]
  next_request = next_request % #requests + 1
  return r
end

function done(summary, latency, _)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"durationUs":%d,"bytes":%d,"p50Us":%d,"p90Us":%d,"p99Us":%d,"meanUs":%.1f,"maxUs":%d,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
