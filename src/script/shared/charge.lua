-- A key's request budget: one counter per key and window, in the same call as the work it admits.
-- Part of dispatch.lua, presence.lua, backlog.lua and clear.lua, inlined where they say
-- `-- @include shared/charge.lua` by scripts/generate-lua.mjs.

-- Charges `spec` ('<limit>:<cost>:<expire at>', from src/core/rate-limit.ts) to `counter`, a key named by its key and
-- window; true when the window still had room for the cost. A refused request is not counted: the counter goes
-- back, so that retrying after Retry-After finds the room the window really has. The first charge of a window
-- sets its expiry, which the window's end plus a margin gives.
local function charge(counter, spec)
  local limit, cost, expireAt = string.match(spec, '^(%d+):(%d+):(%d+)$')
  cost = tonumber(cost)
  local count = redis.call('INCRBY', counter, cost)
  if count == cost then redis.call('EXPIREAT', counter, expireAt) end
  if count <= tonumber(limit) then return true end
  redis.call('DECRBY', counter, cost)
  return false
end
