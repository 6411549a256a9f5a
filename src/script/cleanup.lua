--[[
Removes the backlogs whose newest message is older than a cutoff, one bounded step of a scan over our index.

KEYS[1]  undelivered_messages[_ns]: Mesa's hash of stored messages
KEYS[2]  mesa_dispatch_backlogs[_ns]: our index of it (field: client id, value:
         "<bytes>:<count>:<time>:<fingerprint>:<lengths>", as dispatch.lua writes it)

ARGV[1]  the HSCAN cursor over the index: 0 to start
ARGV[2]  the cutoff, in unix seconds: a backlog last stored into before it is removed
ARGV[3]  how many index entries to look at in this step (HSCAN's COUNT)
ARGV[4]  the most bytes of backlogs this step may read to check that each is the one the index describes: the
         dispatch script's write budget (MAX_WRITE_BYTES), which no backlog it wrote can be larger than

Reply: '<next cursor>:<backlogs removed>:<bytes removed>:<index entries dropped>:<again>'; the scan is over when
the cursor is 0 and <again> is 0. A step that ran out of ARGV[4] answers the cursor it was given and <again> 1: the
next step looks at the same entries again, and those this one handled are gone or still new.

Why it is written this way:
- The index holds the time of the newest message the dispatch script stored for each recipient, so a backlog is
  old when its entry is. Each step runs atomically: a dispatch that lands between two steps refreshes its entry,
  and the step that reaches it sees it new and leaves it.
- A backlog is removed only when it is still the value the index recorded: its length, and its first and last
  messages by their fingerprint (shared/fingerprint.lua). After a login (Mesa deletes the field) or a write by
  anyone else, such as Mesa's own Dispatcher storing a fresh message for a recipient whose old entry is left, only
  the index entry goes. An entry without a fingerprint (written by an older version) is dropped, its value kept.
- HSCAN visits every entry present for the whole scan at least once, and COUNT bounds each step's work; ARGV[4]
  bounds the bytes of values it reads, the one cost an entry's size decides.
]]
local match = string.match
local undelivered, backlogs = KEYS[1], KEYS[2]
local cutoff, budget = tonumber(ARGV[2]), tonumber(ARGV[4])
local hashOf, vouches
-- @include shared/fingerprint.lua
local page = redis.call('HSCAN', backlogs, ARGV[1], 'COUNT', ARGV[3])
local entries = page[2]
local cursor = page[1]
local removed, bytes, dropped, read, again = 0, 0, 0, 0, 0
for j = 1, #entries, 2 do
  local name, meta = entries[j], entries[j + 1]
  local size, time, fp, lensAt = match(meta, '^(%d+):%d+:(%d+):(%x+):()')
  -- The entry '' only keeps the index a hash table (see dispatch.lua).
  if name ~= '' and (not time or tonumber(time) < cutoff) then
    size = tonumber(size)
    -- A value larger than the budget cannot be ours: the dispatch script never writes more than that in one call.
    if size and size <= budget and redis.call('HSTRLEN', undelivered, name) == size then
      if read + size > budget then
        cursor, again = ARGV[1], 1
        break
      end
      read = read + size
      if vouches(redis.call('HGET', undelivered, name), meta, lensAt, fp) then
        redis.call('HDEL', undelivered, name)
        removed, bytes = removed + 1, bytes + size
      end
    end
    redis.call('HDEL', backlogs, name)
    dropped = dropped + 1
  end
end
return cursor .. ':' .. removed .. ':' .. bytes .. ':' .. dropped .. ':' .. again
