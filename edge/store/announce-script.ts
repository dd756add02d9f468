// The announce as one Redis script: the whole hot path costs one round trip (EVALSHA) to Redis.
//
// KEYS 1-4 and 7-9 share the hash tag {<info hash hex>}; on Upstash, `allow-key-locking` locks only
// the keys given instead of the whole database:
//   1 seeders   sorted set: peer id hex -> expiry (ms)
//   2 leechers  sorted set: peer id hex -> expiry (ms)
//   3 addresses hash: peer id hex -> compact address hex (IP bytes + big-endian port), followed by
//                 " " and the peer's `key` when it sent one (the key never leaves the script)
//   4 history   hash: downloaded (times `completed` was reported), announces; lives as long as the
//               swarm keys until a download completes, then for the history TTL
// 5-6 are the tracker-wide counters (counters.ts) of the info hash's shard (one of 16, so that
// announces of different swarms seldom lock the same key), written here so counting costs no extra call:
//   5 counters  hash: announce:<event>:<recorded|ignored> -> count, scrapes -> count
//   6 minute    string: announces in the current minute (the caller names the key), expiring after ARGV 12
// Keys 5 and 6 are outside the swarm's hash tag: on a Redis Cluster this script would touch two or
// three slots and be refused (CROSSSLOT). Upstash's single databases are not clustered; a clustered
// deployment would need counter keys that hash to the swarm's slot.
// 7-10 are for private trackers:
//   7 torrent   hash: allowed, freeleech ("1" when set); uploaded, downloaded, snatches, seeding_ms
//   8 clients   hash: peer id hex -> "<user id> <uploaded> <downloaded> <last announce ms> <1 if seeding>",
//               the totals a passkey announce last reported, to count their increase
//   9 usage     hash: "<user id>:uploaded", ":downloaded", ":snatches", ":seeding_ms" on this torrent
//   10 user     (only with a passkey) hash: id, enabled, uploaded, downloaded, snatches, seeding_ms.
//               Named by the passkey, so checking it costs no extra round trip; it cannot carry the
//               swarm's hash tag, so a passkey announce touches one more slot (as the counters do).
// ARGV:
//   1 peer id hex   2 address hex   3 now (ms)   4 expiry of this peer (ms)   5 "1" when seeding
//   6 event         7 numwant       8 random number in [0, 1) (scripts must stay deterministic)
//   9 TTL of the swarm keys (ms)    10 TTL of the history key (ms)   11 the client's key, or ""
//   12 TTL of the minute key (ms)        13 "1": only allowlisted torrents
//   14 uploaded   15 downloaded (totals the client reports)
//   16 most seeding time counted between two announces (ms)
// Reply: { complete, incomplete, downloaded, id1, address1, id2, address2, ... }, or { -1 } for a
// passkey naming no enabled user and { -2 } for a torrent off the allowlist (nothing written).
//
// Cost: expired peers are dropped a bounded batch at a time (each peer once, so amortised O(1));
// counts are ZCOUNTs (O(log n)); the sample is ZRANDMEMBER with at most numwant + 1 members and
// one HMGET of the chosen ids: O(numwant), never O(swarm).

export const ANNOUNCE_SCRIPT = `#!lua flags=allow-key-locking
local seeders, leechers, addresses, history = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local counters, minute = KEYS[5], KEYS[6]
local peer, address, now, expires = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local seeding = ARGV[5] == '1'
local event = ARGV[6]
local numwant = tonumber(ARGV[7])
local coin = tonumber(ARGV[8])
local swarmTtl, historyTtl = ARGV[9], ARGV[10]
local key = ARGV[11]
local minuteTtl = ARGV[12]
local torrent, clients, usage, user = KEYS[7], KEYS[8], KEYS[9], KEYS[10]

-- Refusals first, before anything is written: an unknown passkey or torrent leaves no trace.
local uid
if user then
  local record = redis.call('HMGET', user, 'id', 'enabled')
  if not record[1] or record[2] ~= '1' then return { -1 } end
  uid = record[1]
end
local flags = redis.call('HMGET', torrent, 'allowed', 'freeleech')
if ARGV[13] == '1' and flags[1] ~= '1' then return { -2 } end

-- A stored address value is the address, then " " and the key if the peer sent one.
local function split(stored)
  local cut = string.find(stored, ' ', 1, true)
  if not cut then return stored, nil end
  return string.sub(stored, 1, cut - 1), string.sub(stored, cut + 1)
end
local function live(score)
  return score and tonumber(score) > tonumber(now)
end

local function dropExpired(set)
  local gone = redis.call('ZRANGEBYSCORE', set, '-inf', now, 'LIMIT', 0, 200)
  if #gone > 0 then
    redis.call('ZREM', set, unpack(gone))
    redis.call('HDEL', addresses, unpack(gone))
  end
end
dropExpired(seeders)
dropExpired(leechers)

local wasSeeder = redis.call('ZSCORE', seeders, peer)
-- A live entry belongs to the address that announced it, or to whoever shows its key: peer ids are
-- public, so an announce with another's id from elsewhere records nothing and is answered as usual.
local owned = true
local stored = redis.call('HGET', addresses, peer)
if stored and (live(wasSeeder) or live(redis.call('ZSCORE', leechers, peer))) then
  local storedAddress, storedKey = split(stored)
  owned = storedAddress == address or (storedKey ~= nil and storedKey == key)
end
-- Accounting: bytes are the increase of the reported totals since this client's last announce (a
-- smaller total means it restarted, and counts from zero); seeding time is the gap since a seeding
-- announce, capped. Numbers go back to Redis through int(): tostring would write 1e+15.
if uid and owned then
  local function int(x) return string.format('%.0f', x) end
  local up, down, at = tonumber(ARGV[14]), tonumber(ARGV[15]), tonumber(now)
  local dUp, dDown, dSeed, dSnatch = up, down, 0, 0
  local last = redis.call('HGET', clients, peer)
  if last then
    local lUid, lUp, lDown, lAt, lSeeding = string.match(last, '^(%S+) (%d+) (%d+) (%d+) ([01])$')
    if lUid == uid then
      if up >= tonumber(lUp) then dUp = up - tonumber(lUp) end
      if down >= tonumber(lDown) then dDown = down - tonumber(lDown) end
      if lSeeding == '1' then dSeed = math.max(0, math.min(at - tonumber(lAt), tonumber(ARGV[16]))) end
    end
  end
  if event == 'completed' and not wasSeeder then dSnatch = 1 end
  -- Freeleech: the torrent counts real traffic, the user is not charged for downloads.
  local charged = dDown
  if flags[2] == '1' then charged = 0 end
  local function bump(hash, field, n)
    if n > 0 then redis.call('HINCRBY', hash, field, int(n)) end
  end
  for _, f in ipairs({ { 'uploaded', dUp, dUp }, { 'downloaded', dDown, charged }, { 'snatches', dSnatch, dSnatch }, { 'seeding_ms', dSeed, dSeed } }) do
    bump(torrent, f[1], f[2])
    bump(user, f[1], f[3])
    bump(usage, uid .. ':' .. f[1], f[3])
  end
  if event == 'stopped' then
    redis.call('HDEL', clients, peer)
  else
    redis.call('HSET', clients, peer, uid .. ' ' .. ARGV[14] .. ' ' .. ARGV[15] .. ' ' .. now .. ' ' .. ARGV[5])
    redis.call('PEXPIRE', clients, historyTtl)
  end
end

if not owned then
  -- nothing recorded
elseif event == 'stopped' then
  redis.call('ZREM', seeders, peer)
  redis.call('ZREM', leechers, peer)
  redis.call('HDEL', addresses, peer)
else
  if seeding then
    redis.call('ZADD', seeders, expires, peer)
    redis.call('ZREM', leechers, peer)
  else
    redis.call('ZADD', leechers, expires, peer)
    redis.call('ZREM', seeders, peer)
  end
  local value = address
  if key ~= '' then value = address .. ' ' .. key end
  redis.call('HSET', addresses, peer, value)
  redis.call('PEXPIRE', seeders, swarmTtl)
  redis.call('PEXPIRE', leechers, swarmTtl)
  redis.call('PEXPIRE', addresses, swarmTtl)
end
if owned and event == 'completed' and not wasSeeder then
  redis.call('HINCRBY', history, 'downloaded', 1)
end
redis.call('HINCRBY', history, 'announces', 1)
local outcome = 'ignored'
if owned then outcome = 'recorded' end
redis.call('HINCRBY', counters, 'announce:' .. event .. ':' .. outcome, 1)
if redis.call('INCR', minute) == 1 then
  redis.call('PEXPIRE', minute, minuteTtl)
end
local downloaded = tonumber(redis.call('HGET', history, 'downloaded') or '0')
-- Only a completed download is worth remembering past the swarm: announces for made-up info hashes
-- leave nothing behind once their peers are gone.
if downloaded > 0 then
  redis.call('PEXPIRE', history, historyTtl)
else
  redis.call('PEXPIRE', history, swarmTtl)
end

local live = '(' .. now
local complete = redis.call('ZCOUNT', seeders, live, '+inf')
local incomplete = redis.call('ZCOUNT', leechers, live, '+inf')
local reply = { complete, incomplete, downloaded }
if event == 'stopped' or numwant <= 0 then
  return reply
end

-- How many to take from each set, excluding the requester; a seeder gets leechers only.
local otherSeeders = complete
local otherLeechers = incomplete
if seeding then otherSeeders = otherSeeders - 1 else otherLeechers = otherLeechers - 1 end
local fromSeeders, fromLeechers = 0, math.min(numwant, math.max(otherLeechers, 0))
if not seeding then
  local others = otherSeeders + otherLeechers
  if others <= numwant then
    fromSeeders, fromLeechers = otherSeeders, otherLeechers
  else
    -- Proportional split with random rounding, so the sample is uniform over both sets.
    fromSeeders = math.min(math.floor(numwant * otherSeeders / others + coin), otherSeeders)
    fromLeechers = numwant - fromSeeders
    if fromLeechers > otherLeechers then
      fromLeechers = otherLeechers
      fromSeeders = numwant - fromLeechers
    end
  end
end

local chosen = {}
local function pick(set, n)
  if n <= 0 then return end
  local got = redis.call('ZRANDMEMBER', set, n + 1, 'WITHSCORES')
  for i = 1, #got, 2 do
    if n == 0 then return end
    if got[i] ~= peer and tonumber(got[i + 1]) > tonumber(now) then
      chosen[#chosen + 1] = got[i]
      n = n - 1
    end
  end
end
pick(seeders, fromSeeders)
pick(leechers, fromLeechers)
if #chosen > 0 then
  local where = redis.call('HMGET', addresses, unpack(chosen))
  for i = 1, #chosen do
    if where[i] then
      reply[#reply + 1] = chosen[i]
      reply[#reply + 1] = (split(where[i]))
    end
  end
end
return reply
`;
