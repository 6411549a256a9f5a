--[[
Removes the offline backlogs of the given clients and our index entries of them, in one atomic step, and says
how many messages and bytes each held.

KEYS[1]  the call's own key: holds the call's reply for ARGV[1] seconds, so a retried call removes nothing twice
KEYS[2]  undelivered_messages[_ns]: Mesa's hash of stored messages (field: client id, value: a JSON array)
KEYS[3]  mesa_dispatch_backlogs[_ns]: our index of it (field: client id, value: "<bytes>:<count>:<time>:<lengths>";
         the field '' keeps the index a hash table and is never removed)
KEYS[4]  optional: the rate counter the clear is charged to, when ARGV[4] is not ''
KEYS[..] optional, last: the clear's own idempotency key, claimed with the clear's fingerprint for the seconds
         ARGV[2] says; a clear that finds it held does nothing

ARGV[1]  the call key's TTL, in seconds
ARGV[2]  '<TTL in seconds>:<fingerprint of the ids asked>' for the idempotency key ('' without one)
ARGV[3]  the most bytes of backlogs this call may read to count their messages, where the index cannot say
ARGV[4]  the charge, '<limit>:<cost>:<expire at>' (shared/charge.lua), or '' for a clear no key's limit counts
ARGV[5..] the client ids, as the hash's fields (a number as its decimal string, as ioredis sends it to Mesa)

Reply: 'l' when the charge found the key's window full, having removed nothing; 'd' when the idempotency key was
held already for the same ids, 'c' when for other ids (a conflict), having removed nothing; else one
'<messages>:<bytes>' per id, in order, joined by ','.
<messages> is how many messages Mesa would have redelivered (0 for a value it could not redeliver), or empty when
counting them would have read more than ARGV[3] bytes or visited more than SCAN_TOKENS JSON tokens
(dispatch/json.lua) in this call; an id named again reports '0:0', as its backlog is gone.

Why it is written this way:
- Dispatches (one script call each) and Mesa's login (HGET, then HDEL) are separate from this call, so each finds
  a backlog either whole or removed, and the index never outlives the value it describes.
- A value this package wrote is counted from its index entry while its length matches the entry, as the dispatch
  script trusts it; any other value is read and its messages counted as JSON.parse would see them, within
  ARGV[3] bytes and SCAN_TOKENS tokens per call. Everything else only deletes: HSTRLEN per id, and CHUNK ids per HMGET and HDEL, since
  `unpack` has a C stack limit. The caller bounds the ids (MAX_RECIPIENTS).
- Claiming the call key is the first write, which Redis refuses under OOM, so an OOM refusal removes nothing.
]]
local find, byte, match, concat, unpack = string.find, string.byte, string.match, table.concat, unpack
local CHUNK = 1000
local callKey, undelivered, backlogs = KEYS[1], KEYS[2], KEYS[3]
local charged = ARGV[4] ~= ''
local dedupe = KEYS[charged and 5 or 4]
local held = redis.call('GET', callKey)
if held then return held end
redis.call('SET', callKey, '', 'EX', ARGV[1])
local function finish(reply)
  redis.call('SET', callKey, reply, 'EX', ARGV[1])
  return reply
end
-- @include shared/charge.lua
if charged and not charge(KEYS[4], ARGV[4]) then return finish('l') end
if dedupe then
  local ttl, fingerprint = match(ARGV[2], '^(%d+):(%x+)$')
  local prior = redis.call('GET', dedupe)
  if prior then return finish(prior == fingerprint and 'd' or 'c') end
  redis.call('SET', dedupe, fingerprint, 'EX', ttl)
end

local budget, scanned = tonumber(ARGV[3]), 0
local skipSpace, skipString, skipScalar, skipKey, skipValue, skipTrusted, readArray
-- @include dispatch/json-bytes.lua
-- @include dispatch/json.lua

local ids, entries = {}, {}
for j = 5, #ARGV do ids[#ids + 1] = ARGV[j] end
for from = 1, #ids, CHUNK do
  local read = redis.call('HMGET', backlogs, unpack(ids, from, math.min(from + CHUNK - 1, #ids)))
  for j = 1, #read do entries[from + j - 1] = read[j] end
end

-- How many messages a value of `size` bytes holds, or '' when counting would read past the budget.
local function count(id, size, entry)
  if size == 0 then return 0 end
  local bytes, messages = match(entry or '', '^(%d+):(%d+):%d+:')
  if id ~= '' and messages and tonumber(bytes) == size then return messages end
  if scanned + size > budget then return '' end
  -- readArray adds what it reads to `scanned`.
  local ok, starts = pcall(readArray, redis.call('HGET', undelivered, id))
  if not ok then
    if starts == TOO_COSTLY then return '' end
    error(starts, 0)
  end
  return starts and #starts or 0
end

local lines, seen = {}, {}
for j, id in ipairs(ids) do
  if seen[id] then
    lines[j] = '0:0'
  else
    seen[id] = true
    local size = redis.call('HSTRLEN', undelivered, id)
    lines[j] = count(id, size, entries[j]) .. ':' .. size
  end
end
-- The index's '' field is its own, never a client's (Mesa never stores for the id '').
local indexed = {}
for _, id in ipairs(ids) do
  if id ~= '' then indexed[#indexed + 1] = id end
end
for from = 1, #ids, CHUNK do redis.call('HDEL', undelivered, unpack(ids, from, math.min(from + CHUNK - 1, #ids))) end
for from = 1, #indexed, CHUNK do redis.call('HDEL', backlogs, unpack(indexed, from, math.min(from + CHUNK - 1, #indexed))) end
return finish(concat(lines, ','))
