-- Storing for the offline recipients, and the online check that decides who they are.
-- Part of dispatch.lua, inlined where it says `-- @include dispatch/store.lua` by scripts/generate-lua.mjs.

  -- Stores a message for one offline recipient; returns its state, or nil when the call's budget ran out first.
  store = function(d, name, names, at, msg)
    if maxBytes > 0 and #msg + 2 > maxBytes then return 'x' end
    local v = values[name]
    local fresh = written == 0 and scanned == 0 and tokens == 0
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
    local ok, dropped = pcall(append, v, msg)
    if not ok then
      -- Checking where to cut (or listing the messages again) would pass the call's SCAN_TOKENS: a later call,
      -- or, for a call that had its whole budget for it, never; the value is left as is.
      if dropped ~= TOO_COSTLY then error(dropped, 0) end
      if before then
        restore(v, before)
        v.checkFrom = nil
      else
        values[name] = fresh and TOO_LARGE or nil
      end
      scanned = seen
      return fresh and 'x' or nil
    end
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
    -- The payload's recipients, as pieces so that no string is made per recipient: each id, and before it what
    -- closes the one before and opens it (JOIN, by whether the one before was a quoted string).
    local states, published, queued, p, quoted = {}, {}, {}, 0, false
    -- What a recipient with nothing stored takes: the message as it is, stored right here without a call to store
    -- when it fits the caps and the call's budget, as for most offline recipients of a large dispatch.
    local grew, undo = #msg + 2, d.undo
    local fits = maxBytes == 0 or grew <= maxBytes
    local processed, i = 0, 1
    while i <= n do
      local last = math.min(i + CHUNK - 1, n)
      -- SMISMEMBER's answer by position in the chunk (1 online); `base` turns a recipient's index into that position.
      local online, names, base, offline = {}, {}, i - 1, 0
      local special = find(flags, '[wr]', i)
      if special and special <= last then
        local members, at = {}, {}
        for j = i, last do
          local flag = byte(flags, j)
          if flag ~= WILDCARD and flag ~= REACHED then
            members[#members + 1] = ARGV[m + j]
            at[#at + 1] = j
          end
        end
        if #members > 0 then
          local r = redis.call('SMISMEMBER', connected, unpack(members))
          for j = 1, #r do online[at[j] - base] = r[j] end
        end
      else
        -- No wildcard and no id passed over: the chunk's ids go as ARGV holds them, with no table of their own.
        online = redis.call('SMISMEMBER', connected, unpack(ARGV, m + i, m + last))
      end
      for j = i, last do
        if online[j - base] == 0 then
          local flag = byte(flags, j)
          if flag == STORABLE or flag == STORABLE_ESCAPED then
            offline = offline + 1
            names[offline] = ARGV[m + j]
          end
        end
      end
      if offline > 0 then survey(names) end
      local cursor = 1
      for j = i, last do
        local flag, member = byte(flags, j), ARGV[m + j]
        if flag == STORABLE_ESCAPED or flag == PLAIN_ESCAPED then escaped = escaped + 1 end
        local state
        if flag == REACHED then
          state = '-'
        elseif flag == WILDCARD or online[j - base] == 1 then
          state = flag == WILDCARD and 'w' or '1'
          if flag == STORABLE_ESCAPED or flag == PLAIN_ESCAPED or flag == NUMBER then
            published[p + 1], published[p + 2] = p == 0 and '' or (quoted and '",' or ','), flag == NUMBER and member or ARGV[escaped]
            quoted = false
          else
            published[p + 1], published[p + 2] = p == 0 and '"' or (quoted and '","' or ',"'), member
            quoted = true
          end
          p = p + 2
        elseif flag ~= STORABLE and flag ~= STORABLE_ESCAPED then
          state = 'x'
        elseif queued[member] then
          state = queued[member]
        else
          if fits and values[member] == ABSENT and written + grew <= budget then
            values[member], written = msg, written + grew
            touchedOrder[#touchedOrder + 1] = member
            undo[#undo + 1] = member
            d.stored = d.stored + 1
            state = '0'
          else
            while names[cursor] ~= member do cursor = cursor + 1 end
            state = store(d, member, names, cursor, msg)
            if not state then break end
          end
          queued[member] = state
        end
        states[j] = state
        processed = j
      end
      if processed < last then break end
      i = last + 1
    end
    if quoted then published[p + 1] = '"' end
    if processed < n then budgetLeft = false end
    if processed == 0 and n > 0 then return false end
    d.states = concat(states, '', 1, processed)
    d.payload = '{"message":' .. msg .. ',"recipients":[' .. concat(published) .. ']}'
    d.empty = #published == 0
    -- The key's value: the fingerprint, and, while recipients remain, how many of the dispatch's are reached.
    d.value = processed < n and (d.fingerprint .. ':' .. (d.offset + processed)) or d.fingerprint
    return true
  end

