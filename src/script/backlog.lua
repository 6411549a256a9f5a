--[[
Reads one client's offline backlog, the very value Mesa's server reads (HGET) when that client logs in: whole, or
one range of it, so that no reply of a large value is larger than a range.

KEYS[1]  undelivered_messages[_ns]: Mesa's hash of stored messages (field: client id, value: a JSON array)
KEYS[2]  optional: the rate counter the read is charged to, when ARGV[2] is not ''

ARGV[1]  the client id, as the hash's field (a number as its decimal string, as ioredis sends it to Mesa)
ARGV[2]  the charge, '<limit>:<cost>:<expire at>' (shared/charge.lua), or '' for a read no key's limit counts
ARGV[3]  the largest value this call may read, in bytes
ARGV[4]  where the range starts: the bytes of the value before it
ARGV[5]  the most bytes the range may hold
ARGV[6]  the version (SHA-1) of the value the earlier ranges came from, or '' for the first range

Reply: 'l' when the charge found the key's window full; 'b<bytes>' when the value is larger than ARGV[3], having
read nothing; 'v' when the value is no longer the version ARGV[6] names; an empty array when there is no backlog;
else { the value's length in bytes, its version ('' when the range is the whole value), the range, the bytes of
the value up to the range's end }.

Why it is written this way:
- One HGET is atomic, so a dispatch that lands meanwhile is either wholly in the value or not at all. A hash field
  cannot be read in part (there is no HGETRANGE), so each call reads the whole value, bounded by ARGV[3], which
  HSTRLEN checks before. Every step is done by Redis's C code (HGET, SHA-1, string.sub), never by a Lua loop over
  the value, so a call holds Redis for an HGET and a SHA-1 of at most ARGV[3] bytes: parsing is left to the caller.
- The ranges of one read are glued by the version: a value rewritten between two of them answers 'v', and the
  caller reads it again. A value that fits in one range needs no version, so it is not hashed.
- A range ends before a byte that continues a UTF-8 character, so that each range decodes on its own as the whole
  value does. The length comes from Redis, since a value someone else wrote need not be valid UTF-8.
- A Redis that refuses writes (OOM) refuses the charge's INCRBY; the read is then answered uncounted.
]]
-- @include shared/charge.lua
if ARGV[2] ~= '' then
  local ok, admitted = pcall(charge, KEYS[2], ARGV[2])
  if ok and not admitted then return 'l' end
end
-- An empty value holds no messages for Mesa, which tests it for truth before parsing it.
local size = redis.call('HSTRLEN', KEYS[1], ARGV[1])
if size == 0 then return {} end
if size > tonumber(ARGV[3]) then return 'b' .. size end
local value = redis.call('HGET', KEYS[1], ARGV[1])
local from, span, expected = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
if from == 0 and size <= span then return { size, '', value, size } end
local version = redis.sha1hex(value)
if expected ~= '' and expected ~= version then return 'v' end
if from >= size then return 'v' end
local last = math.min(from + span, size)
-- At most three bytes continue a character; past them the value is not UTF-8 there, and any cut decodes alike.
local back = 0
while last < size and back < 3 and last - 1 > from do
  local c = string.byte(value, last + 1)
  if c < 128 or c >= 192 then break end
  last, back = last - 1, back + 1
end
return { size, version, string.sub(value, from + 1, last), last }
