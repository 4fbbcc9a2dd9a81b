-- wrk script for the soak: mixed session traffic over a pool of live sessions, in a fixed cycle of MIX.
--
-- "new" requests carry no cookie; the others carry the cookie of a session drawn at random from the pool. A cookie
-- the server sets (a new session, a regenerated id) joins the pool; a session drawn for destroy or regenerate leaves it
-- at once, so no later request uses an id that is gone. The pool holds at most POOL_LIMIT sessions: past that, a random
-- one is dropped and abandoned, as a user who never comes back, so it expires and GC has to remove it.
local POOL_LIMIT = 2000
local MIX = {
  "read", "write", "read", "new", "read", "write", "read", "regenerate", "read", "write",
  "read", "destroy", "read", "write", "read", "new", "read", "write", "read", "regenerate",
}
local METHOD = { read = "GET", write = "POST", destroy = "POST", regenerate = "POST" }

local pool = {}
local position = {}
local step = 0
local new_request

local function remove_at(i)
  local cookie = pool[i]
  local last = pool[#pool]
  pool[i] = last
  position[last] = i
  pool[#pool] = nil
  position[cookie] = nil
end

local function add(cookie)
  if position[cookie] then return end
  if #pool >= POOL_LIMIT then remove_at(math.random(#pool)) end
  pool[#pool + 1] = cookie
  position[cookie] = #pool
end

function init(_)
  new_request = wrk.format("GET", "/new", { Host = wrk.headers["Host"] })
end

function request()
  step = step % #MIX + 1
  local kind = MIX[step]
  if kind == "new" or #pool == 0 then return new_request end
  local i = math.random(#pool)
  local cookie = pool[i]
  if kind == "destroy" or kind == "regenerate" then remove_at(i) end
  return wrk.format(METHOD[kind], "/" .. kind, { Cookie = cookie, Host = wrk.headers["Host"] })
end

function response(_, headers, _)
  local value = headers["set-cookie"] or headers["Set-Cookie"]
  if value == nil then return end
  local cookie = value:match("^([^;]+)")
  -- A destroyed session's cookie comes back empty ("sessid=; Max-Age=0"): nothing to keep.
  if cookie ~= nil and not cookie:match("=$") then add(cookie) end
end

-- The same line as bench/load/session.lua prints, which bench/load/wrk.ts parses.
function done(summary, latency, _)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"durationUs":%d,"bytes":%d,"p50Us":%d,"p90Us":%d,"p99Us":%d,"meanUs":%.1f,"maxUs":%d,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
