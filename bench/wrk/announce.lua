-- wrk script for bench/tracker-http.ts: announces spread over the swarms listed (hex info hashes, one a
-- line) in the file named by the first script argument, each from a fresh random 20-byte peer id.
-- info_hash and peer_id go out as raw bytes, every byte percent-encoded, as real clients send them.
-- The second argument "close" sends "Connection: close": one announce per TCP connection, as clients do
-- (each announce comes from a different client); "keep-alive" reuses connections.
-- About a quarter of the announces are seeders (left=0), so replies mix seeder and leecher views.
-- At the end one JSON line (prefixed "WRK_JSON ") carries the figures bench/tracker-http.ts reads.

local hashes = {}
local headers = {}
local thread_count = 0

local function encode_hex(hex)
  return (hex:gsub("(..)", "%%%1"))
end

function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_id", thread_count)
end

function init(args)
  local file = assert(io.open(args[1], "r"), "cannot open info hash list " .. tostring(args[1]))
  for line in file:lines() do
    if #line == 40 then hashes[#hashes + 1] = encode_hex(line) end
  end
  file:close()
  assert(#hashes > 0, "no info hashes in " .. args[1])
  if args[2] == "close" then headers["Connection"] = "close" end
  math.randomseed(os.time() * 1000 + (thread_id or 0))
end

local function random_peer_id()
  local parts = {}
  for i = 1, 20 do parts[i] = string.format("%%%02X", math.random(0, 255)) end
  return table.concat(parts)
end

function request()
  local hash = hashes[math.random(1, #hashes)]
  local left = 0
  if math.random(1, 4) > 1 then left = math.random(1, 1000000000) end
  local path = "/announce?info_hash=" .. hash
    .. "&peer_id=" .. random_peer_id()
    .. "&port=" .. math.random(1024, 65535)
    .. "&uploaded=0&downloaded=0&left=" .. left
    .. "&event=started&compact=1&numwant=50"
  return wrk.format("GET", path, headers)
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"status_errors":%d,"timeouts":%d}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(99), latency.max,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout))
end
