--[[
Answers which of the given client ids are in Mesa's online set, or, given none, how many ids the set holds.

KEYS[1]   connected_clients[_ns]: Mesa's set of online client ids (SADD at login, SREM at disconnect)
KEYS[2]   optional: the rate counter the question is charged to, when ARGV[1] is not ''

ARGV[1]   the charge, '<limit>:<cost>:<expire at>' (shared/charge.lua), or '' for a question no key's limit counts
ARGV[2..] the client ids, as the set holds them (a number as its decimal string, as ioredis sends it to Mesa)

Reply: 'l' when the charge found the key's window full; with no ids, the number of ids in the set (SCARD); else
one character per id, in order: '1' online, '0' not

Why it is written this way:
- It only reads, but for the charge. A Redis that refuses writes (OOM) refuses the charge's INCRBY, and the
  question is then answered uncounted: counting must not cost a read its answer, and a read adds no memory.
- CHUNK ids per SMISMEMBER, since `unpack` has a C stack limit; the caller bounds the ids (MAX_RECIPIENTS).
]]
local CHUNK = 1000
local connected = KEYS[1]
-- @include shared/charge.lua
if ARGV[1] ~= '' then
  local ok, admitted = pcall(charge, KEYS[2], ARGV[1])
  if ok and not admitted then return 'l' end
end
if #ARGV == 1 then return redis.call('SCARD', connected) end
local flags = {}
for from = 2, #ARGV, CHUNK do
  local found = redis.call('SMISMEMBER', connected, unpack(ARGV, from, math.min(from + CHUNK - 1, #ARGV)))
  for j = 1, #found do flags[#flags + 1] = found[j] == 1 and '1' or '0' end
end
return table.concat(flags)
