--[[
Applies the dispatches of one call atomically: for each, the dedupe check, the online check, the bounded offline
store and the PUBLISH, exactly as Mesa 1.5.8's servers expect them.

KEYS[1]   the call's own key: holds the call's reply for ARGV[1] seconds, so a retried call applies nothing twice
KEYS[2]   connected_clients[_ns]: Mesa's set of online client ids
KEYS[3]   undelivered_messages[_ns]: Mesa's hash of stored messages (field: client id, value: a JSON array)
KEYS[4]   mesa_dispatch_backlogs[_ns]: our index of that hash (field: client id, value:
          "<bytes>:<count>:<time>:<fingerprint>:<length>,<length>,...", the length and message count of the value
          this script last wrote there, when, the first 8 hex digits of the SHA-1 of its first message and of its
          last, and the length of each message in it; the field '' holds KEEP_TABLE)
KEYS[5..] the rate counter of each charge (ARGV[8..]), in order; then the own dedupe key of each dispatch that has
          one, in dispatch order

ARGV[1]   the call key's TTL, in seconds
ARGV[2]   now, in unix seconds: the time recorded for the messages this call stores
ARGV[3]   the most bytes this call may write into the two hashes
ARGV[4]   the most messages kept per recipient (0: no limit)
ARGV[5]   the most bytes kept per recipient, brackets included (0: no limit)
ARGV[6]   the channel: ws[_ns]
ARGV[7]   how many charges follow: requests counted against a key's rate limit (src/core/rate-limit.ts)
ARGV[8..] each charge as '<limit>:<cost>:<expire at>' (shared/charge.lua)
ARGV[..]  the dispatches, each starting with a head: its mode; when it has an own key, '<ttl>:<fingerprint>:<offset>'
          (how long the key is kept, the fingerprint of the whole dispatch, and how many of its recipients come
          before this part); then '@<n>' when the dispatch is admitted by the n-th charge of the call
  'p' <payload>   publish the payload as given
  'c' <message> <flags> <member> x n <json of each escaped member>
                  check who is online, publish to them and store for the offline ones. One flag per recipient: 'w'
                  the wildcard, 's'/'S' a string Mesa would store (plain/escaped), 'p'/'P' a string it never stores
                  (plain/escaped), 'n' a number, 'r' an id an earlier part reached (its member is ''). A member is
                  the id as the online set holds it; the JSON of each escaped member follows all the members, in order.
  'C' ...         as 'c', for a later part of a dispatch: it publishes only when it reaches someone.

Reply: one line per dispatch, in order, joined by "\n":
  'n<servers>:<stored>:<dropped>:<states>'  applied. One state per recipient processed: 'w' the wildcard,
                  '1' online, '0' offline and stored, 'x' offline and not stored, '-' passed over ('r'). Fewer
                  states than recipients: the call's budget ran out, and the caller sends the rest as the next part.
  'd'             the dispatch's id was applied already, to all of it: nothing done
  'p<reached>'    the dispatch's id was applied already to its first <reached> recipients, not where this part
                  starts: nothing done; the rest goes from there
  'c'             the dispatch's id was claimed with another fingerprint (another request): nothing done
  'r'             nothing done, because the call's budget ran out: send it again
  'l'             nothing done, because its charge found the key's window full
  'e<error>'      failed, having done nothing

Why it is written this way:
- Claiming the call key, or a charge when the call has one, is the call's first write, and Redis refuses a script
  under OOM only before its first write, so an OOM refusal leaves nothing done. Every later write is bounded:
  ARGV[3] bytes of stored values, SCAN_BYTES of values checked in Lua and SCAN_TOKENS of their JSON tokens
  (dispatch/json.lua: a check's time goes by its tokens), CHUNK values per variadic command (`unpack`
  has a C stack limit).
- A dispatch's own key holds '<fingerprint>' once it reached all its recipients, '<fingerprint>:<reached>' while
  its parts have reached the first <reached>: a part resumes it only from there, and only with the same
  fingerprint, so a retry can neither repeat nor skip anyone, nor pass another request off as a duplicate.
- A dispatch reads everything before it writes. Its own key is its only write before the stores; the stores of
  the whole call are written next, and each PUBLISH last, since a publish cannot be taken back. A failed store
  write restores what the call overwrote and fails the dispatches that stored; a failed PUBLISH undoes the call.
  Every PUBLISH of a call is the same command on the same channel, so Redis refuses the first or none.
- Mesa reads a recipient's messages with one HGET, so each stored value is one JSON array, rewritten whole. It
  is read and written once per call however many dispatches append to it, and the messages are appended as the
  caller's bytes, never through cjson, which would rewrite `0.30000000000000004` and `[]`.
- A value this script wrote is trusted while its length matches the index and it starts and ends with the very
  messages the index's fingerprint names (shared/fingerprint.lua): two SHA-1s of one message each, whatever the
  value's size. The index's message lengths then say where to cut when the oldest messages go (the last message
  cut is parsed to check, unless it is the first, which the fingerprint names). Any other value is checked as
  JSON.parse would check it; one Mesa could not redeliver (not JSON, not an array, a null message, which stop
  Mesa's redelivery for good) is replaced, as Mesa's own Dispatcher does, and one with spaces between its
  messages is rewritten without them.
- The charges come right after the call key is claimed, before any dispatch reads anything: a refused charge
  leaves its dispatches undone, the others of the call go on.
- The script is written in parts of one concept each (dispatch/*.lua), which scripts/generate-lua.mjs inlines
  where a line says `-- @include <part>`.
]]
-- Globals read through locals: Redis 7 guards its globals table, which makes each global read cost about what a
-- table store does, and the hot loops read ARGV and `type` per recipient.
local find, byte, match, sub, concat, unpack, type = string.find, string.byte, string.match, string.sub, table.concat, unpack, type
local ARGV = ARGV
local CHUNK = 1000
local SCAN_BYTES = 262144
-- Longer than hash-max-listpack-value (64), so that Redis keeps the index a hash table: as a listpack (up to 512
-- short entries) each of a dispatch's lookups would scan it. Mesa never stores for the id ''.
local KEEP_TABLE = 'mesa-dispatch keeps this index a hash table, where a listpack would make every lookup a scan'
local callKey, connected, undelivered, backlogs = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local held = redis.call('GET', callKey)
if held then return held end
local charges = tonumber(ARGV[7])
-- The call's first write: Redis refuses a script under OOM only before it, so a refusal leaves nothing done. A call
-- without charges claims its key; a charged call's first charge is that write, and the key is held at the end.
if charges == 0 then redis.call('SET', callKey, '', 'EX', ARGV[1]) end
local now, budget, maxMessages, maxBytes, channel = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]

-- Phase 0: the charges, each admitting or refusing its dispatches.
-- @include shared/charge.lua
local refused = {}
for j = 1, charges do
  if not charge(KEYS[4 + j], ARGV[7 + j]) then refused[tostring(j)] = true end
end

-- The working state of the call: what it spends, and the stored values it appends to.
-- The call's spending: bytes of stored values it will write, and bytes of stored values it checked in Lua.
local written, scanned = 0, 0
-- The stored values this call appends to, by client id, in the order first touched. A value is held as the text
-- read (`src`, written '[m,m,...]' with no spaces, whose kept messages run from `cut` to just before `close`,
-- and whose message lengths are listed in `lens` from `lensAt` on), followed by the messages appended (the
-- table's own array part, kept from `first` on); `orig` and `origLen` are the original messages kept and their
-- bytes, `addedLen` the bytes of those appended (with commas), `count` every message kept, `size` the bytes this
-- call has counted for it. Dropping the oldest only moves `cut`, `lensAt` or `first`: nothing is copied until
-- the write.
local values, touchedOrder = {}, {}
-- A value this call cannot store into: too large to read or to check within one call.
local TOO_LARGE = {}
-- A value that is absent. Once one message is stored into it, the value is that message (a string) until a
-- second one or a cap needs the whole table: most offline recipients of a large dispatch have nothing stored.
local ABSENT = {}
-- Index entries of values found larger than one call may check: later calls size them with HSTRLEN instead.
local forgets = {}
-- What is known of each value a dispatch may store into, before it is read, so that none is ever read blind: its
-- index entry (a string) when this script wrote it, else its size from HSTRLEN (a number). One table, since each
-- new key of a large table costs about as much as the rest of a recipient's work; entries are parsed where used.
local known = {}
-- Everything one dispatch needs from ARGV and everything decided about it.
local dispatches, claims = {}, {}
local budgetLeft = true

-- The functions that check JSON and store offline messages, defined only by a call that stores: creating some
-- thirty closures would otherwise cost a publish-only call more than everything else it does.
local skipSpace, skipString, skipScalar, skipKey, skipValue, skipTrusted, readArray, contentLength, snapshot, restore, dropOriginals, dropOldest, relist, makeRoom, append, finalValue, hashOf, vouches, describe, survey, newValue, open, load, store, check
local function defineStore()
  -- @include dispatch/json-bytes.lua
  -- The flags of ARGV's recipients (RECIPIENT_FLAG in src/script/protocol.ts).
  local WILDCARD, STORABLE, STORABLE_ESCAPED, PLAIN_ESCAPED, NUMBER, REACHED = byte('w'), byte('s'), byte('S'), byte('P'), byte('n'), byte('r')
  -- @include dispatch/json.lua
  -- @include dispatch/backlog-value.lua
  -- @include shared/fingerprint.lua
  -- @include dispatch/read-values.lua
  -- @include dispatch/store.lua
end

-- Takes back what a dispatch changed in the call's working values.
local function rollback(d)
  for j = #touchedOrder, d.touchedFrom + 1, -1 do touchedOrder[j] = nil end
  for j = #d.undo, 1, -1 do
    local entry = d.undo[j]
    if type(entry) == 'string' then
      -- The first message stored into an absent value.
      written = written - #values[entry] - 2
      values[entry] = ABSENT
    elseif entry.v then
      written = written - (entry.v.size or 0) + (entry[10] or 0)
      restore(entry.v, entry)
    else
      written = written - (entry.size or 0)
      entry.size, values[entry.name] = nil, nil
    end
  end
  d.undo = {}
end

-- Reads, decides and claims one dispatch's own key; sets its line when it ends here (a duplicate, a conflict, a part
-- out of step, no budget).
local function claim(d, a, mode, ttl)
  if d.key then
    local prior = redis.call('GET', d.key)
    if prior then
      local fingerprint, reached = match(prior, '^(%x*):?(%d*)$')
      if fingerprint ~= d.fingerprint then
        d.line = 'c'
      elseif reached == '' then
        d.line = 'd'
      elseif tonumber(reached) ~= d.offset then
        d.line = 'p' .. reached
      else
        -- The next part of a dispatch that stopped where this part starts.
        d.prior = prior
      end
      if d.line then return end
    end
  end
  if mode == 'p' then
    d.payload = ARGV[a + 1]
    d.value = d.fingerprint
  else
    if not check then defineStore() end
    if not check(d, a) then
      d.line = 'r'
      return
    end
  end
  if d.key then
    redis.call('SET', d.key, d.value, 'EX', ttl)
    claims[d.key] = d
  end
end

-- Phase 1: every dispatch in order reads, decides and claims its own key; nothing else is written yet.
local k, a = 5 + charges, 8 + charges
while a <= #ARGV do
  local head = ARGV[a]
  local mode, ttl, fingerprint, offset, by = match(head, '^(%a)(%d*):?(%x*):?(%d*)@?(%d*)$')
  local d = { stored = 0, dropped = 0, undo = {}, states = '', value = '', fingerprint = fingerprint, offset = tonumber(offset) or 0 }
  d.continuation = mode == 'C'
  local span = 2
  if mode ~= 'p' then
    local flags = ARGV[a + 2]
    -- The escaped members' JSON follows the members: counted without copying the flags when there is none.
    local escapes = 0
    if find(flags, '[SP]') then escapes = select(2, string.gsub(flags, '[SP]', '')) end
    span = 3 + #flags + escapes
  end
  if ttl ~= '' then
    d.key = KEYS[k]
    k = k + 1
  end
  dispatches[#dispatches + 1] = d
  d.touchedFrom = #touchedOrder
  if by ~= '' and refused[by] then
    d.line = 'l'
  elseif not budgetLeft then
    d.line = 'r'
  elseif d.key and claims[d.key] then
    d.twin = claims[d.key]
  else
    local ok, err = pcall(claim, d, a, mode, ttl)
    if not ok then
      rollback(d)
      d.line = 'e' .. string.gsub(type(err) == 'table' and tostring(err.err) or tostring(err), '%s+', ' ')
    end
  end
  a = a + span
end

-- Fails a dispatch that claimed its key, giving the key back as it was: free, or at the progress of earlier parts.
local function fail(d, line)
  d.line = line
  if d.key then
    if d.prior then
      pcall(redis.call, 'SET', d.key, d.prior, 'KEEPTTL')
    else
      pcall(redis.call, 'DEL', d.key)
    end
  end
end

-- @include dispatch/write-stores.lua

-- Phase 3: the publishes, in order; the first one refused takes the whole call back. A later part that reaches no
-- one publishes nothing: the first part published the dispatch (to no one, as Mesa would), once.
local published = false
for _, d in ipairs(dispatches) do
  if not d.line and not d.twin and d.continuation and d.empty then d.line = 'n0:' .. d.stored .. ':' .. d.dropped .. ':' .. d.states end
  if not d.line and not d.twin then
    local ok, servers = pcall(redis.call, 'PUBLISH', channel, d.payload)
    if not ok then
      if published then
        -- Held, so that the transport's retry of this call applies nothing again.
        pcall(redis.call, 'SET', callKey, '', 'EX', ARGV[1])
        return redis.error_reply('ERR a PUBLISH failed after others of the same call succeeded')
      end
      undoStores(#touchedOrder)
      for j = #undo, 1, -1 do pcall(redis.call, unpack(undo[j])) end
      local line = 'e' .. string.gsub(type(servers) == 'table' and tostring(servers.err) or tostring(servers), '%s+', ' ')
      for _, other in ipairs(dispatches) do
        if not other.line and not other.twin then fail(other, line) end
      end
      break
    end
    published = true
    d.line = 'n' .. servers .. ':' .. d.stored .. ':' .. d.dropped .. ':' .. d.states
  end
end

local lines = {}
for j, d in ipairs(dispatches) do
  if d.twin then
    -- The same id twice in one call: the second is what the first made of it.
    local original = d.twin
    if sub(original.line, 1, 1) == 'e' then
      d.line = original.line
    elseif original.fingerprint ~= d.fingerprint then
      d.line = 'c'
    else
      local reached = match(original.value, ':(%d+)$')
      d.line = reached and ('p' .. reached) or 'd'
    end
  end
  lines[j] = d.line
end
local reply = concat(lines, '\n')
redis.call('SET', callKey, reply, 'EX', ARGV[1])
return reply
