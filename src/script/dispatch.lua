--[[
Applies the dispatches of one call atomically: for each, the dedupe check, the online check, the bounded offline
store and the PUBLISH, exactly as Mesa 1.5.8's servers expect them.

KEYS[1]   the call's own key: holds the call's reply for ARGV[1] seconds, so a retried call applies nothing twice
KEYS[2]   connected_clients[_ns]: Mesa's set of online client ids
KEYS[3]   undelivered_messages[_ns]: Mesa's hash of stored messages (field: client id, value: a JSON array)
KEYS[4]   mesa_dispatch_backlogs[_ns]: our index of that hash (field: client id, value:
          "<bytes>:<count>:<time>:<length>,<length>,...", the length and message count of the value this script
          last wrote there, when, and the length of each message in it; the field '' holds KEEP_TABLE)
KEYS[5..] the own dedupe key of each dispatch that has one, in dispatch order

ARGV[1]   the call key's TTL, in seconds
ARGV[2]   now, in unix seconds: the time recorded for the messages this call stores
ARGV[3]   the most bytes this call may write into the two hashes
ARGV[4]   the most messages kept per recipient (0: no limit)
ARGV[5]   the most bytes kept per recipient, brackets included (0: no limit)
ARGV[6]   the channel: ws[_ns]
ARGV[7..] the dispatches, each starting with a head: its mode, then its dedupe TTL when it has an own key
  'p' <payload>   publish the payload as given
  'c' <message> <flags> <member> x n <json of each escaped member>
                  check who is online, publish to them and store for the offline ones. One flag per recipient: 'w' the wildcard, 's'/'S' a string
                  Mesa would store (plain/escaped), 'p'/'P' a string it never stores (plain/escaped), 'n' a number. A member is the id as the online set holds it;
                  the JSON of each escaped member follows all the members, in order.

Reply: one line per dispatch, in order, joined by "\n":
  'n<servers>:<stored>:<dropped>:<states>'  applied. One state per recipient processed: 'w' the wildcard,
                  '1' online, '0' offline and stored, 'x' offline and not stored. Fewer states than recipients:
                  the call's budget ran out, and the caller sends the rest as a dispatch of its own.
  'd<processed>'  the dispatch's id was applied already: <processed> is empty, or how many recipients it reached
  'r'             nothing done, because the call's budget ran out: send it again
  'e<error>'      failed, having done nothing

Why it is written this way:
- Claiming the call key is the call's first write, and Redis refuses a script under OOM only before its first
  write, so an OOM refusal leaves nothing done. Every later write is bounded: ARGV[3] bytes of stored values,
  SCAN_BYTES of values checked in Lua, CHUNK values per variadic command (`unpack` has a C stack limit).
- A dispatch reads everything before it writes. Its own key is its only write before the stores; the stores of
  the whole call are written next, and each PUBLISH last, since a publish cannot be taken back. A failed store
  write restores what the call overwrote and fails the dispatches that stored; a failed PUBLISH undoes the call.
  Every PUBLISH of a call is the same command on the same channel, so Redis refuses the first or none.
- Mesa reads a recipient's messages with one HGET, so each stored value is one JSON array, rewritten whole. It
  is read and written once per call however many dispatches append to it, and the messages are appended as the
  caller's bytes, never through cjson, which would rewrite `0.30000000000000004` and `[]`.
- A value this script wrote is trusted while its length matches the index, whose message lengths say where to
  cut when the oldest messages go (the last message cut is parsed to check). Any other value is checked as
  JSON.parse would check it; one Mesa could not redeliver (not JSON, not an array, a null message, which stop
  Mesa's redelivery for good) is replaced, as Mesa's own Dispatcher does, and one with spaces between its
  messages is rewritten without them.
]]
local find, byte, match, sub, concat, unpack = string.find, string.byte, string.match, string.sub, table.concat, unpack
local CHUNK = 1000
local SCAN_BYTES = 262144
-- Longer than hash-max-listpack-value (64), so that Redis keeps the index a hash table: as a listpack (up to 512
-- short entries) each of a dispatch's lookups would scan it. Mesa never stores for the id ''.
local KEEP_TABLE = 'mesa-dispatch keeps this index a hash table, where a listpack would make every lookup a scan'
local callKey, connected, undelivered, backlogs = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local held = redis.call('GET', callKey)
if held then return held end
redis.call('SET', callKey, '', 'EX', ARGV[1])
local now, budget, maxMessages, maxBytes, channel = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]

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
local skipSpace, skipString, skipScalar, skipKey, skipValue, skipTrusted, readArray, contentLength, snapshot, restore, dropOriginals, dropOldest, relist, makeRoom, append, finalValue, describe, survey, newValue, open, load, store, check
local function defineStore()
  -- JSON, checked as strictly as JSON.parse does. Each reader takes the index where a token starts and returns the
  -- index just after it, or nil where the text is not valid JSON; none copies the text.
  skipSpace = function(s, i)
    local c = byte(s, i)
    if c == 32 or c == 9 or c == 10 or c == 13 then
      i = find(s, '[^ \t\n\r]', i)
      if not i then return nil end
      c = byte(s, i)
    end
    if c then return i, c end
  end

  skipString = function(s, i)
    local _, e = find(s, '^"[^"\\%z\1-\31]*"', i)
    if e then return e + 1 end
    i = i + 1
    while true do
      local j = find(s, '["\\%z\1-\31]', i)
      if not j then return nil end
      local c = byte(s, j)
      if c == 34 then return j + 1 end
      if c ~= 92 then return nil end
      c = byte(s, j + 1)
      if c == 117 then
        if not find(s, '^%x%x%x%x', j + 2) then return nil end
        i = j + 6
      elseif c == 34 or c == 92 or c == 47 or c == 98 or c == 102 or c == 110 or c == 114 or c == 116 then
        i = j + 2
      else
        return nil
      end
    end
  end

  skipScalar = function(s, i, c)
    if c == 34 then return skipString(s, i) end
    if c == 116 then return find(s, '^true', i) and i + 4 end
    if c == 102 then return find(s, '^false', i) and i + 5 end
    if c == 110 then return find(s, '^null', i) and i + 4 end
    if c == 45 then
      i = i + 1
      c = byte(s, i)
    end
    if c == 48 then
      i = i + 1
    elseif c and c >= 49 and c <= 57 then
      i = match(s, '^%d*()', i + 1)
    else
      return nil
    end
    c = byte(s, i)
    if c == 46 then
      i = match(s, '^%d+()', i + 1)
      if not i then return nil end
      c = byte(s, i)
    end
    if c == 101 or c == 69 then i = match(s, '^[-+]?%d+()', i + 1) end
    return i
  end

  -- An object's key and the colon after it.
  skipKey = function(s, i)
    local c
    i, c = skipSpace(s, i)
    if c ~= 34 then return nil end
    i = skipString(s, i)
    if not i then return nil end
    i, c = skipSpace(s, i)
    if c ~= 58 then return nil end
    return i + 1
  end

  -- One value of any depth, without recursion: `closers` holds the closing byte of each container still open.
  skipValue = function(s, i)
    local closers, depth, c = {}, 0, nil
    while true do
      i, c = skipSpace(s, i)
      if not i then return nil end
      local opened = false
      if c == 123 or c == 91 then
        local close, k = c + 2, nil
        k, c = skipSpace(s, i + 1)
        if not k then return nil end
        if c == close then
          i = k + 1
        else
          depth, opened = depth + 1, true
          closers[depth] = close
          if close == 125 then i = skipKey(s, k) else i = k end
          if not i then return nil end
        end
      else
        i = skipScalar(s, i, c)
        if not i then return nil end
      end
      while not opened do
        if depth == 0 then return i end
        i, c = skipSpace(s, i)
        if not i then return nil end
        if c == closers[depth] then
          depth, i = depth - 1, i + 1
        elseif c == 44 then
          if closers[depth] == 125 then i = skipKey(s, i + 1) else i = i + 1 end
          if not i then return nil end
          opened = true
        else
          return nil
        end
      end
    end
  end

  -- The end of one value this script wrote (or checked before keeping): only brackets, braces and strings are
  -- looked at, since the value is known to be JSON.
  skipTrusted = function(s, i)
    local c = byte(s, i)
    if c ~= 123 and c ~= 91 then return skipScalar(s, i, c) end
    local depth = 0
    while true do
      local j = find(s, '[][{}"]', i)
      if not j then return nil end
      c = byte(s, j)
      if c == 34 then
        i = skipString(s, j)
        if not i then return nil end
      elseif c == 123 or c == 91 then
        depth, i = depth + 1, j + 1
      else
        depth, i = depth - 1, j + 1
        if depth == 0 then return i end
      end
    end
  end


  -- The messages of a stored value as Mesa could redeliver it: where each starts and how long it is; nil when
  -- Mesa could not redeliver it.
  readArray = function(s)
    scanned = scanned + #s
    local i, c = skipSpace(s, 1)
    if c ~= 91 then return nil end
    local starts, lengths = {}, {}
    i, c = skipSpace(s, i + 1)
    while i and c ~= 93 do
      if c == 110 then return nil end
      local e = skipValue(s, i)
      if not e then return nil end
      starts[#starts + 1], lengths[#lengths + 1] = i, e - i
      i, c = skipSpace(s, e)
      if c == 44 then
        i, c = skipSpace(s, i + 1)
        if c == 93 then return nil end
      elseif c ~= 93 then
        return nil
      end
    end
    if not i or skipSpace(s, i + 1) then return nil end
    return starts, lengths
  end


  contentLength = function(v)
    return v.origLen + v.addedLen + ((v.origLen > 0 and v.addedLen > 0) and 1 or 0)
  end

  -- What a value holds, so that a change can be taken back.
  snapshot = function(v)
    return { v.src, v.cut, v.close, v.orig, v.origLen, v.first, v.addedLen, v.count, #v, v.size, v.lensAt, v.lens }
  end

  restore = function(v, s)
    v.src, v.cut, v.close, v.orig, v.origLen, v.first, v.addedLen, v.count, v.size = s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8], s[10]
    v.lensAt, v.lens = s[11], s[12]
    for j = #v, s[9] + 1, -1 do v[j] = nil end
  end

  -- Forgets the original messages of a value whose index turned out wrong: someone else rewrote it since.
  dropOriginals = function(v)
    v.src, v.cut, v.close, v.orig, v.origLen = nil, nil, nil, 0, 0
    v.count = #v - v.first + 1
  end

  -- Drops the oldest message, or every original message at once when `all`, by the lengths the value's messages
  -- are listed with; false when the list does not fit the value, which then cannot be trusted.
  dropOldest = function(v, all)
    if v.orig > 0 then
      if all then
        v.count, v.orig, v.cut, v.origLen = v.count - v.orig, 0, nil, 0
        return true
      end
      local length, nxt = match(v.lens, '^(%d+),?()', v.lensAt)
      if not length then return false end
      local e = v.cut + tonumber(length)
      if v.orig > 1 and byte(v.src, e) == 44 then
        v.checkFrom, v.checkTo = v.cut, e
        v.cut, v.lensAt = e + 1, nxt
        v.origLen = v.close - v.cut
      elseif v.orig == 1 and e == v.close then
        v.cut, v.origLen = nil, 0
      else
        return false
      end
      v.orig = v.orig - 1
    else
      local gone = #v[v.first]
      v.addedLen = v.addedLen - gone - (v.addedLen > gone and 1 or 0)
      v.first = v.first + 1
    end
    v.count = v.count - 1
    return true
  end

  -- Lists again, from the text, the original messages a value keeps, when the lengths its index gave were wrong:
  -- someone rewrote it since, to the very length of ours. False when they are not JSON (nor written our way).
  relist = function(v)
    local s, i, stop, lengths = v.src, v.cut, v.close, {}
    scanned = scanned + stop - i
    while i < stop do
      local e = skipValue(s, i)
      if not e or (e ~= stop and byte(s, e) ~= 44) then return false end
      lengths[#lengths + 1] = e - i
      i = e + 1
    end
    v.lens, v.lensAt, v.orig = concat(lengths, ','), 1, #lengths
    v.count = v.orig + #v - v.first + 1
    return true
  end

  -- Drops the oldest messages until one of `length` bytes fits the caps; returns how many it dropped, or nil when
  -- the lengths listed for the value do not fit its text. The last cut made by length is checked by parsing the
  -- message before it: a value rewritten by someone else to the very length of ours would not end one there.
  makeRoom = function(v, length)
    local dropped = 0
    while v.count > 0 do
      local content = contentLength(v)
      local over = maxBytes > 0 and content + (content > 0 and 1 or 0) + length + 2 - maxBytes or 0
      if over <= 0 and (maxMessages == 0 or v.count < maxMessages) then break end
      local all = v.orig > 0 and over > 0 and over >= v.origLen + (v.addedLen > 0 and 1 or 0)
      local before = v.count
      if not dropOldest(v, all) then return nil end
      dropped = dropped + before - v.count
    end
    if v.checkFrom then
      local from, to = v.checkFrom, v.checkTo
      v.checkFrom = nil
      scanned = scanned + to - from
      if skipTrusted(v.src, from) ~= to then return nil end
    end
    return dropped
  end

  -- Appends a message within the caps, dropping the oldest first; returns how many messages it dropped. When the
  -- index was wrong about the value, its messages are listed again from the text (or dropped, if not JSON).
  append = function(v, msg)
    local content = contentLength(v)
    local full = v.count > 0 and ((maxMessages > 0 and v.count >= maxMessages) or (maxBytes > 0 and content + 3 + #msg > maxBytes))
    local before, dropped = full and snapshot(v), 0
    if full then dropped = makeRoom(v, #msg) end
    if not dropped then
      restore(v, before)
      v.checkFrom = nil
      if not relist(v) then dropOriginals(v) end
      dropped = makeRoom(v, #msg)
    end
    v[#v + 1] = msg
    v.addedLen = v.addedLen + #msg + (v.addedLen > 0 and 1 or 0)
    v.count = v.count + 1
    return dropped
  end

  -- The value to write, built by one concatenation: every string Lua creates costs a pass over its bytes, and the
  -- kept part of a backlog can be most of its 256 KB.
  finalValue = function(v)
    local added = v.first == #v and v[v.first] or concat(v, ',', v.first)
    if v.orig == 0 then return '[' .. added .. ']' end
    if added == '' then return '[' .. sub(v.src, v.cut, v.close - 1) .. ']' end
    return '[' .. sub(v.src, v.cut, v.close - 1) .. ',' .. added .. ']'
  end

  describe = function(name)
    local entry = known[name]
    if type(entry) == 'number' then return entry end
    local bytes, count, lensAt = match(entry, '^(%d+):(%d+):%d+:()')
    return tonumber(bytes), tonumber(count), lensAt, entry
  end

  survey = function(names)
    local fresh = {}
    for j = 1, #names do
      local name = names[j]
      if not values[name] and not known[name] then fresh[#fresh + 1] = name end
    end
    for from = 1, #fresh, CHUNK do
      local read = redis.call('HMGET', backlogs, unpack(fresh, from, math.min(from + CHUNK - 1, #fresh)))
      for j = 1, #read do
        local name, entry = fresh[from + j - 1], read[j]
        if entry and find(entry, '^%d+:%d+:%d+:') then known[name] = entry else known[name] = redis.call('HSTRLEN', undelivered, name) end
      end
    end
  end

  -- Turns a value read from Redis into its working form, checking it unless the index vouches for it.
  newValue = function(name, value, meta)
    -- Every field is set here, so that the table is sized once.
    return {
      name = name, old = value, oldMeta = meta or false, first = 1, addedLen = 0, orig = 0, origLen = 0, count = 0,
      src = false, cut = false, close = false, lens = false, lensAt = false, size = false, listed = false, checkFrom = false,
    }
  end

  open = function(name, value)
    if not value then return ABSENT end
    local size, count, lensAt, meta = describe(name)
    local v = newValue(name, value, meta)
    if value == '' then return v end
    if count and #value == size then
      if count > 0 then
        v.src, v.cut, v.close, v.orig, v.count = value, 2, #value, count, count
        v.origLen, v.lens, v.lensAt = v.close - v.cut, meta, lensAt
      end
      return v
    end
    if #value > SCAN_BYTES then
      -- Larger than one call may check; the index forgets it, so that later calls size it with HSTRLEN.
      v.forget = count ~= nil
      return TOO_LARGE, v
    end
    -- Not checkable within what this call has left: a later call does it.
    if scanned > 0 and scanned + #value > SCAN_BYTES then return nil end
    local starts, lengths = readArray(value)
    if starts and #starts > 0 then
      local n = #starts
      local compact = starts[1] == 2 and starts[n] + lengths[n] == #value
      for j = 2, n do compact = compact and starts[j] == starts[j - 1] + lengths[j - 1] + 1 end
      if compact then
        v.src = value
      else
        local parts = {}
        for j = 1, n do parts[j] = sub(value, starts[j], starts[j] + lengths[j] - 1) end
        v.src = '[' .. concat(parts, ',') .. ']'
      end
      v.cut, v.close, v.orig, v.count, v.origLen = 2, #v.src, n, n, #v.src - 2
      v.lens, v.lensAt = concat(lengths, ','), 1
    end
    return v
  end

  -- Loads the values of `names` from `at` on, as many as `room` bytes allow (the first always), in one HMGET.
  load = function(names, at, room)
    local batch, want = {}, 0
    for j = at, #names do
      local name = names[j]
      if not values[name] and known[name] then
        local size = describe(name)
        if #batch > 0 and want + size > room then break end
        batch[#batch + 1], want = name, want + size
      end
    end
    local read = redis.call('HMGET', undelivered, unpack(batch))
    for j = 1, #batch do
      local name = batch[j]
      local v, forgotten = open(name, read[j])
      if v then
        values[name] = v
        if forgotten and forgotten.forget then forgets[#forgets + 1] = name end
      else
        known[name] = #read[j]
      end
    end
  end


  -- Stores a message for one offline recipient; returns its state, or nil when the call's budget ran out first.
  store = function(d, name, names, at, msg)
    if maxBytes > 0 and #msg + 2 > maxBytes then return 'x' end
    local v = values[name]
    local fresh = written == 0 and scanned == 0
    if v == nil then
      local size, count = describe(name)
      local unchecked = count == nil and size > 0
      if size > budget or (unchecked and size > SCAN_BYTES) then
        values[name] = TOO_LARGE
        return 'x'
      end
      if not fresh and (written + size > budget or (unchecked and scanned + size > SCAN_BYTES)) then return nil end
      load(names, at, budget - written)
      v = values[name]
      if v == nil then return nil end
    end
    if v == TOO_LARGE then return 'x' end
    if v == ABSENT then
      local grew = #msg + 2
      if grew > budget or (not fresh and written + grew > budget) then return grew > budget and 'x' or nil end
      values[name], written = msg, written + grew
      touchedOrder[#touchedOrder + 1] = name
      d.undo[#d.undo + 1] = name
      d.stored = d.stored + 1
      return '0'
    end
    if type(v) == 'string' then
      -- The second message for a value that was absent: now it needs the whole table.
      local first = v
      v = newValue(name, false, type(known[name]) == 'string' and known[name])
      v[1], v.addedLen, v.count, v.size, v.listed = first, #first, 1, #first + 2, true
      values[name] = v
    end
    -- A value this call has not stored into yet is taken back by forgetting it (it is read again if needed);
    -- one it has is taken back from a snapshot.
    local before, seen = v.size and snapshot(v), scanned
    local dropped = append(v, msg)
    local size = contentLength(v) + 2
    local grew = size - (v.size or 0)
    if (grew > budget) or (not fresh and (written + grew > budget or scanned > SCAN_BYTES)) then
      if before then restore(v, before) else values[name] = nil end
      scanned = seen
      if grew > budget then return 'x' end
      return nil
    end
    if not v.listed then
      touchedOrder[#touchedOrder + 1], v.listed = name, true
    end
    d.undo[#d.undo + 1] = before or v
    if before then before.v = v end
    v.size = size
    written = written + grew
    d.stored, d.dropped = d.stored + 1, d.dropped + dropped
    return '0'
  end

  -- Checks who of a 'c' or 's' dispatch's recipients is online and stores for the offline ones, chunk by chunk.
  check = function(d, a)
    local msg, flags, m = ARGV[a + 1], ARGV[a + 2], a + 2
    local n, escaped = #flags, a + 2 + #flags
    local states, published, queued = {}, {}, {}
    local processed, i = 0, 1
    while i <= n do
      local last = math.min(i + CHUNK - 1, n)
      local members, at, online, names = {}, {}, {}, {}
      for j = i, last do
        if byte(flags, j) ~= 119 then
          members[#members + 1] = ARGV[m + j]
          at[#at + 1] = j
        end
      end
      if #members > 0 then
        local r = redis.call('SMISMEMBER', connected, unpack(members))
        for j = 1, #r do
          local position = at[j]
          if r[j] == 1 then
            online[position] = true
          else
            local flag = byte(flags, position)
            if flag == 115 or flag == 83 then names[#names + 1] = members[j] end
          end
        end
      end
      if #names > 0 then survey(names) end
      local cursor = 1
      for j = i, last do
        local flag, member = byte(flags, j), ARGV[m + j]
        if flag == 83 or flag == 80 then escaped = escaped + 1 end
        local state
        if flag == 119 or online[j] then
          state = flag == 119 and 'w' or '1'
          -- The payload's recipients are appended as pieces, so that no string is made per recipient.
          local p = #published
          if p > 0 then
            published[p + 1] = ','
            p = p + 1
          end
          if flag == 83 or flag == 80 then
            published[p + 1] = ARGV[escaped]
          elseif flag == 110 then
            published[p + 1] = member
          else
            published[p + 1], published[p + 2], published[p + 3] = '"', member, '"'
          end
        elseif flag ~= 115 and flag ~= 83 then
          state = 'x'
        elseif queued[member] then
          state = queued[member]
        else
          while names[cursor] ~= member do cursor = cursor + 1 end
          state = store(d, member, names, cursor, msg)
          if not state then break end
          queued[member] = state
        end
        states[j] = state
        processed = j
      end
      if processed < last then break end
      i = last + 1
    end
    if processed < n then budgetLeft = false end
    if processed == 0 and n > 0 then return false end
    d.states = concat(states, '', 1, processed)
    d.payload = '{"message":' .. msg .. ',"recipients":[' .. concat(published) .. ']}'
    d.value = processed < n and tostring(processed) or ''
    return true
  end

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

-- Reads, decides and claims one dispatch's own key; sets its line when it ends here (a duplicate, no budget).
local function claim(d, a, mode, ttl)
  if d.key then
    local prior = redis.call('GET', d.key)
    if prior then
      -- A key written before parts existed holds the original's result: that dispatch was whole.
      d.line = 'd' .. (match(prior, '^%d*$') or '')
      return
    end
  end
  if mode == 'p' then
    d.payload = ARGV[a + 1]
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
local k, a = 5, 7
while a <= #ARGV do
  local head = ARGV[a]
  local mode, ttl = sub(head, 1, 1), sub(head, 2)
  local d = { stored = 0, dropped = 0, undo = {}, states = '', value = '' }
  local span = 2
  if mode ~= 'p' then
    local flags = ARGV[a + 2]
    local _, escapes = string.gsub(flags, '[SP]', '')
    span = 3 + #flags + escapes
  end
  if ttl ~= '' then
    d.key = KEYS[k]
    k = k + 1
  end
  dispatches[#dispatches + 1] = d
  d.touchedFrom = #touchedOrder
  if not budgetLeft then
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

local function fail(d, line)
  d.line = line
  if d.key then pcall(redis.call, 'DEL', d.key) end
end

-- Phase 2: the stores of the whole call, each value and its index entry written once, with an undo log.
local undo = {}
local function write(command)
  local ok, err = pcall(redis.call, unpack(command))
  if not ok then return 'e' .. string.gsub(type(err) == 'table' and tostring(err.err) or tostring(err), '%s+', ' ') end
end

-- Numbers as text, each formatted once: Lua formats a number through sprintf, which costs more than the rest of
-- a recipient's index entry, and the recipients of one dispatch share their lengths.
local digits = {}
local function text(n)
  local t = digits[n]
  if not t then
    t = tostring(n)
    digits[n] = t
  end
  return t
end

-- A field as it was before the call: its old value set back, or the field deleted when it had none.
local function putBack(restore, drop, name, old)
  if old then
    restore[#restore + 1] = name
    restore[#restore + 1] = old
  else
    drop[#drop + 1] = name
  end
end

-- What the call overwrote, put back when a later write fails: built only then, from the working values.
local function undoStores(upTo)
  local restoreValues, dropValues, restoreIndex, dropIndex = { 'HSET', undelivered }, { 'HDEL', undelivered }, { 'HSET', backlogs }, { 'HDEL', backlogs }
  for j = 1, upTo do
    local name = touchedOrder[j]
    local v = values[name]
    local old, oldEntry
    if type(v) == 'string' then
      old, oldEntry = false, type(known[name]) == 'string' and known[name]
    elseif type(v) == 'table' and v.size then
      old, oldEntry = v.old, v.oldMeta
    end
    if old ~= nil then
      putBack(restoreValues, dropValues, name, old)
      putBack(restoreIndex, dropIndex, name, oldEntry)
    end
  end
  for _, command in ipairs({ restoreValues, dropValues, restoreIndex, dropIndex }) do
    for from = 3, #command, 2 * CHUNK do
      local to = math.min(from + 2 * CHUNK - 1, #command)
      local part = { command[1], command[2], unpack(command, from, to) }
      undo[#undo + 1] = part
    end
  end
end

local failure
if #touchedOrder > 0 or #forgets > 0 then
  local valuesCommand, indexCommand = { 'HSET', undelivered }, { 'HSET', backlogs, '', KEEP_TABLE }
  local function flush(upTo)
    if #valuesCommand > 2 then
      failure = write(valuesCommand)
      if not failure then failure = write(indexCommand) end
      if failure then
        undoStores(upTo)
        for j = #undo, 1, -1 do pcall(redis.call, unpack(undo[j])) end
        undo = {}
      end
    end
    valuesCommand, indexCommand = { 'HSET', undelivered }, { 'HSET', backlogs, '', KEEP_TABLE }
  end
  for j = 1, #touchedOrder do
    if failure then break end
    local name = touchedOrder[j]
    local v = values[name]
    local value, entry
    if type(v) == 'string' then
      value = '[' .. v .. ']'
      entry = text(#value) .. ':1:' .. now .. ':' .. text(#v)
    elseif type(v) == 'table' and v.size then
      value = finalValue(v)
      local lengths
      if v.first == #v then
        lengths = text(#v[v.first])
      else
        lengths = {}
        for m = v.first, #v do lengths[#lengths + 1] = text(#v[m]) end
        lengths = concat(lengths, ',')
      end
      if v.orig > 0 then lengths = sub(v.lens, v.lensAt) .. ',' .. lengths end
      entry = text(#value) .. ':' .. text(v.count) .. ':' .. now .. ':' .. lengths
    end
    if value then
      valuesCommand[#valuesCommand + 1] = name
      valuesCommand[#valuesCommand + 1] = value
      indexCommand[#indexCommand + 1] = name
      indexCommand[#indexCommand + 1] = entry
    end
    if #valuesCommand >= 2 * CHUNK + 2 then flush(j) end
  end
  if not failure then flush(#touchedOrder) end
  if #forgets > 0 and not failure then pcall(redis.call, 'HDEL', backlogs, unpack(forgets)) end
end
if failure then
  for _, d in ipairs(dispatches) do
    if not d.line and not d.twin and d.stored > 0 then fail(d, failure) end
  end
end

-- Phase 3: the publishes, in order; the first one refused takes the whole call back.
local published = false
for _, d in ipairs(dispatches) do
  if not d.line and not d.twin then
    local ok, servers = pcall(redis.call, 'PUBLISH', channel, d.payload)
    if not ok then
      if published then return redis.error_reply('ERR a PUBLISH failed after others of the same call succeeded') end
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
    local original = d.twin
    if sub(original.line, 1, 1) == 'e' then d.line = original.line else d.line = 'd' .. original.value end
  end
  lines[j] = d.line
end
local reply = concat(lines, '\n')
redis.call('SET', callKey, reply, 'EX', ARGV[1])
return reply
