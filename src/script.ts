/**
 * One script call applies a batch of dispatches atomically, in one round trip: for each, an optional dedupe
 * check, the online check, the offline store and the PUBLISH.
 *
 * Why each step is written the way it is:
 * - Every key arrives through KEYS, as Redis requires of scripts; channels are not keys.
 * - KEYS[1] is the call's own key. Its reply is kept there for ARGV[1] seconds, so a transport retry of a call
 *   that landed but lost its answer gets the same reply and applies nothing twice. Claiming it is the call's
 *   first write: Redis refuses a script's first write under OOM and lets later writes through, so an OOM
 *   refusal leaves nothing done. https://redis.io/docs/latest/develop/interact/programmability/eval-intro/#script-flags
 * - Each dispatch does all its reads before its first write, inside pcall: a WRONGTYPE fails that dispatch
 *   alone, having done nothing, and the others in the call go on.
 * - Stored arrays are read once per call, appended to in memory and written once at its end, so n messages to
 *   one offline recipient in one call copy its array once, not n times. Nobody sees the difference: a script
 *   runs alone, and a hash read without error cannot refuse the HSET.
 * - Stored arrays are extended by string surgery, never cjson: cjson would rewrite `0.30000000000000004` as
 *   `0.3` and `[]` as `{}`, and the bytes must stay exactly as JavaScript serialized them.
 * - A stored value that is not a bracketed array is replaced, as Mesa's Dispatcher does after a failed parse.
 * - `unpack` is bounded by Lua's C stack (about 8000 values), so variadic calls go in chunks of 1000.
 * - Each recipient is sent once, as the member the set holds; its JSON is rebuilt here (`"id"`, or the number
 *   as is), and only ids that JSON must escape also carry their JavaScript-made JSON.
 *
 * ARGV[1] is the call key's TTL; then each dispatch in turn, starting with a head: 'p' (publish the payload as
 * given) or 'c' (check online first), followed by the dedupe TTL when the dispatch has an id of its own, whose
 * key then comes next in KEYS. After the head, 'p' has the channel and payload; 'c' has the channel, the
 * message JSON, one flag per recipient, the n members, then the JSON of each escaped id, and takes
 * connected_clients and undelivered_messages from KEYS. Flags: 'w' the wildcard, 's'/'S' a storable string
 * (plain/escaped), 'p'/'P' a string never stored, 'n' a number.
 *
 * The reply is one line per dispatch: 'n' and `servers:stored:states` when applied, 'd' and the original's
 * result for an id already applied, 'e' and Redis's error when it failed.
 */
export const DISPATCH_SCRIPT = `
local held = redis.call('GET', KEYS[1])
if held then return held end
redis.call('SET', KEYS[1], '', 'NX', 'EX', ARGV[1])
local CHUNK = 1000
-- The stored arrays this call appends to: each is read once and written once, at the end of the call. Per
-- field: the items it held, the first message appended, and a list only once a second one comes.
local stores, hashes = {}, {}
local function keep(undelivered, fields, msg)
  local store, values = stores[undelivered], {}
  -- The first dispatch of a call to store into this hash (the usual case) finds every field fresh.
  local fresh = store and {} or fields
  if store then
    for j = 1, #fields do
      if not store.first[fields[j]] then fresh[#fresh + 1] = fields[j] end
    end
  end
  for from = 1, #fresh, CHUNK do
    local r = redis.call('HMGET', undelivered, unpack(fresh, from, math.min(from + CHUNK - 1, #fresh)))
    for j = 1, #r do values[from + j - 1] = r[j] end
  end
  if not store then store = { base = {}, first = {}, more = {}, order = {} }; stores[undelivered] = store; hashes[#hashes + 1] = undelivered end
  local base, first, more, order = store.base, store.first, store.more, store.order
  if #fresh < #fields then
    for j = 1, #fields do
      local field = fields[j]
      if first[field] then
        local list = more[field]
        if list then list[#list + 1] = msg else more[field] = { msg } end
      end
    end
  end
  for j = 1, #fresh do
    local field, items = fresh[j], values[j] and values[j]:match('^%s*%[(.*)%]%s*$')
    base[field] = items and items:find('%S') and items or false
    first[field] = msg
    order[#order + 1] = field
  end
end
local function run(mode, a, own, ttl, connected, undelivered)
  if own then
    local prior = redis.call('GET', own)
    if prior then return 'd' .. prior end
  end
  local channel, msg = ARGV[a + 1], ARGV[a + 2]
  local payload, state, fields = msg, '', {}
  if mode == 'c' then
    local flags, m = ARGV[a + 3], a + 3
    local n = #flags
    -- Members are checked straight from ARGV, unless a '*' must be left out: then from a list of the others.
    local online, source, base, at = {}, ARGV, m, nil
    if flags:find('w', 1, true) then
      source, base, at = {}, 0, {}
      for i = 1, n do
        if flags:byte(i) ~= 119 then source[#source + 1] = ARGV[m + i]; at[#at + 1] = i end
      end
    end
    local count = at and #at or n
    for from = 1, count, CHUNK do
      local r = redis.call('SMISMEMBER', connected, unpack(source, base + from, base + math.min(from + CHUNK - 1, count)))
      for j = 1, #r do online[at and at[from + j - 1] or from + j - 1] = r[j] == 1 end
    end
    local published, queued, states, escaped = {}, {}, {}, m + n
    for i = 1, n do
      local flag, member = flags:byte(i), ARGV[m + i]
      local json
      if flag == 83 or flag == 80 then escaped = escaped + 1; json = ARGV[escaped]
      elseif flag == 110 then json = member
      else json = '"' .. member .. '"' end
      if flag == 119 or online[i] then
        published[#published + 1] = json
        states[i] = flag == 119 and 'w' or '1'
      else
        states[i] = '0'
        if (flag == 115 or flag == 83) and not queued[member] then queued[member] = true; fields[#fields + 1] = member end
      end
    end
    state = table.concat(states)
    payload = '{"message":' .. msg .. ',"recipients":[' .. table.concat(published, ',') .. ']}'
    -- The last read of the dispatch, so nothing is kept for one that fails.
    if #fields > 0 then keep(undelivered, fields, msg) end
  end
  local result = redis.call('PUBLISH', channel, payload) .. ':' .. #fields .. ':' .. state
  if own then redis.call('SET', own, result, 'EX', ttl) end
  return 'n' .. result
end
local lines, k, a = {}, 2, 2
while a <= #ARGV do
  local head = ARGV[a]
  local mode, ttl, span = head:sub(1, 1), head:sub(2), 3
  local own, connected, undelivered
  if ttl ~= '' then own = KEYS[k]; k = k + 1 end
  if mode == 'c' then
    local flags = ARGV[a + 3]
    local _, escapes = flags:gsub('[SP]', '')
    span = 4 + #flags + escapes
    connected, undelivered = KEYS[k], KEYS[k + 1]; k = k + 2
  end
  local ok, line = pcall(run, mode, a, own, ttl, connected, undelivered)
  if not ok then line = 'e' .. (string.gsub(type(line) == 'table' and tostring(line.err) or tostring(line), '%s+', ' ')) end
  lines[#lines + 1] = line
  a = a + span
end
for _, undelivered in ipairs(hashes) do
  local store, batch = stores[undelivered], {}
  for _, field in ipairs(store.order) do
    local items, list = store.base[field], store.more[field]
    local tail = list and ',' .. table.concat(list, ',') or ''
    batch[#batch + 1] = field
    batch[#batch + 1] = items and '[' .. items .. ',' .. store.first[field] .. tail .. ']' or '[' .. store.first[field] .. tail .. ']'
    if #batch == 2 * CHUNK then redis.call('HSET', undelivered, unpack(batch)); batch = {} end
  end
  if #batch > 0 then redis.call('HSET', undelivered, unpack(batch)) end
end
local reply = table.concat(lines, '\\n')
redis.call('SET', KEYS[1], reply, 'EX', ARGV[1])
return reply
`
