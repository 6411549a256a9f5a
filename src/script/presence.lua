--[[
Answers which of the given client ids are in Mesa's online set, or, given none, how many ids the set holds.

KEYS[1]   connected_clients[_ns]: Mesa's set of online client ids (SADD at login, SREM at disconnect)
KEYS[2]   optional: a dedupe key to claim for ARGV[1] seconds, so that an operation with the same id (a signed
          request's signature) is refused afterwards as a duplicate: POST /presence claims a signed body's
          signature, which a replay of that body to POST /backlog/clear must not get to use

ARGV[1]   the claim's TTL in seconds ('' without KEYS[2])
ARGV[2..] the client ids, as the set holds them (a number as its decimal string, as ioredis sends it to Mesa)

Reply: with no ids, the number of ids in the set (SCARD); else one character per id, in order: '1' online, '0' not

Why it is written this way:
- It only reads, but for the claim, which is best effort: a Redis that refuses writes (OOM) still answers, and
  it refuses the clear that would use the claim as well.
- CHUNK ids per SMISMEMBER, since `unpack` has a C stack limit; the caller bounds the ids (MAX_RECIPIENTS).
]]
local CHUNK = 1000
local connected = KEYS[1]
if KEYS[2] then pcall(redis.call, 'SET', KEYS[2], '', 'NX', 'EX', ARGV[1]) end
if #ARGV == 1 then return redis.call('SCARD', connected) end
local flags = {}
for from = 2, #ARGV, CHUNK do
  local found = redis.call('SMISMEMBER', connected, unpack(ARGV, from, math.min(from + CHUNK - 1, #ARGV)))
  for j = 1, #found do flags[#flags + 1] = found[j] == 1 and '1' or '0' end
end
return table.concat(flags)
