--[[
Reads one client's offline backlog: the very value Mesa's server reads (HGET) when that client logs in.

KEYS[1]  undelivered_messages[_ns]: Mesa's hash of stored messages (field: client id, value: a JSON array)
KEYS[2]  optional: the rate counter the read is charged to, when ARGV[2] is not ''

ARGV[1]  the client id, as the hash's field (a number as its decimal string, as ioredis sends it to Mesa)
ARGV[2]  the charge, '<limit>:<cost>:<expire at>' (shared/charge.lua), or '' for a read no key's limit counts

Reply: 'l' when the charge found the key's window full; an empty array when there is no backlog; else { the
value's length in bytes, the value }

Why it is written this way:
- One HGET is atomic, so a dispatch that lands meanwhile is either wholly in the value or not at all. The
  length comes from Redis, since a value someone else wrote need not be valid UTF-8, which the reply would alter.
- A Redis that refuses writes (OOM) refuses the charge's INCRBY; the read is then answered uncounted.
]]
-- @include shared/charge.lua
if ARGV[2] ~= '' then
  local ok, admitted = pcall(charge, KEYS[2], ARGV[2])
  if ok and not admitted then return 'l' end
end
local value = redis.call('HGET', KEYS[1], ARGV[1])
if not value then return {} end
return { #value, value }
