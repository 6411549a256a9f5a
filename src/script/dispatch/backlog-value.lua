-- A stored value in its working form: appending within the caps, dropping the oldest, and the value to write.
-- Part of dispatch.lua, inlined where it says `-- @include dispatch/backlog-value.lua` by scripts/generate-lua.mjs.


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
    v.src, v.cut, v.close, v.orig, v.origLen, v.firstHash = nil, nil, nil, 0, 0, false
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
      if v.orig > 1 and byte(v.src, e) == COMMA then
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
      if not e or (e ~= stop and byte(s, e) ~= COMMA) then return false end
      lengths[#lengths + 1] = e - i
      i = e + 1
    end
    v.lens, v.lensAt, v.orig, v.firstHash = concat(lengths, ','), 1, #lengths, false
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
      -- A value's first message needs no parse: the index vouched for it by its length and its hash. Any other is
      -- parsed, within the call's SCAN_TOKENS, since a message of ours may be dense JSON of 256 KB.
      if from ~= 2 or not v.firstHash then
        scanned = scanned + to - from
        if skipTrusted(v.src, from) ~= to then return nil end
      end
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
