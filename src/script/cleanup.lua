--[[
Removes the backlogs whose newest message is older than a cutoff, one bounded step of a scan over our index.

KEYS[1]  undelivered_messages[_ns]: Mesa's hash of stored messages
KEYS[2]  mesa_dispatch_backlogs[_ns]: our index of it (field: client id, value: "<bytes>:<count>:<time>:<lengths>")

ARGV[1]  the HSCAN cursor over the index: 0 to start
ARGV[2]  the cutoff, in unix seconds: a backlog last stored into before it is removed
ARGV[3]  how many index entries to look at in this step (HSCAN's COUNT)

Reply: '<next cursor>:<backlogs removed>:<bytes removed>:<index entries dropped>'; the scan is over when the
cursor is 0.

Why it is written this way:
- The index holds the time of the newest message the dispatch script stored for each recipient, so a backlog is
  old when its entry is. Each step runs atomically: a dispatch that lands between two steps refreshes its entry,
  and the step that reaches it sees it new and leaves it.
- A backlog is removed only when its length is still the one the index recorded, i.e. it holds what the script
  last wrote. After a login (Mesa deletes the field) or a write by anyone else, only the index entry goes.
- HSCAN visits every entry present for the whole scan at least once, and COUNT bounds each step's work.
]]
local undelivered, backlogs = KEYS[1], KEYS[2]
local cutoff = tonumber(ARGV[2])
local page = redis.call('HSCAN', backlogs, ARGV[1], 'COUNT', ARGV[3])
local entries = page[2]
local removed, bytes, dropped = 0, 0, 0
for j = 1, #entries, 2 do
  local name, meta = entries[j], entries[j + 1]
  local size, time = string.match(meta, '^(%d+):%d+:(%d+):')
  -- The entry '' only keeps the index a hash table (see dispatch.lua).
  if name ~= '' and (not time or tonumber(time) < cutoff) then
    size = tonumber(size)
    if size and redis.call('HSTRLEN', undelivered, name) == size then
      redis.call('HDEL', undelivered, name)
      removed, bytes = removed + 1, bytes + size
    end
    redis.call('HDEL', backlogs, name)
    dropped = dropped + 1
  end
end
return page[1] .. ':' .. removed .. ':' .. bytes .. ':' .. dropped
