-- The JSON readers: JSON checked as strictly as JSON.parse checks it, without copying the text.
-- Part of dispatch.lua and clear.lua, inlined where they say `-- @include dispatch/json.lua` by scripts/generate-lua.mjs.
-- It needs the byte names of json-bytes.lua, the locals `find`, `byte` and `match`, and a counter `scanned`.

  -- The JSON tokens one call's checks may visit, counting each message read as MESSAGE_TOKENS more and each escape
  -- as one: a check takes time by its tokens far more than by its bytes (256 KB of Mesa's messages, 14,000 tokens,
  -- took 9 ms; 256 KB of bare numbers, 87,000 messages, 200 ms), so the bytes alone bound no call. A reader that
  -- would pass it stops with the error TOO_COSTLY, which tells the caller the text was not judged, not that it is
  -- not JSON.
  local SCAN_TOKENS, MESSAGE_TOKENS, TOO_COSTLY = 40000, 3, {}
  local tokens = 0

  -- JSON, checked as strictly as JSON.parse does. Each reader takes the index where a token starts and returns the
  -- index just after it, or nil where the text is not valid JSON, or raises TOO_COSTLY; none copies the text.
  skipSpace = function(s, i)
    local c = byte(s, i)
    if c == SPACE or c == TAB or c == LINE_FEED or c == CARRIAGE_RETURN then
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
      if c == QUOTE then return j + 1 end
      if c ~= BACKSLASH then return nil end
      tokens = tokens + 1
      if tokens > SCAN_TOKENS then error(TOO_COSTLY) end
      c = byte(s, j + 1)
      if c == UNICODE_ESCAPE then
        if not find(s, '^%x%x%x%x', j + 2) then return nil end
        i = j + 6
      elseif SHORT_ESCAPES[c] then
        i = j + 2
      else
        return nil
      end
    end
  end

  skipScalar = function(s, i, c)
    if c == QUOTE then return skipString(s, i) end
    if c == TRUE_START then return find(s, '^true', i) and i + 4 end
    if c == FALSE_START then return find(s, '^false', i) and i + 5 end
    if c == NULL_START then return find(s, '^null', i) and i + 4 end
    if c == MINUS then
      i = i + 1
      c = byte(s, i)
    end
    if c == DIGIT_0 then
      i = i + 1
    elseif c and c >= DIGIT_1 and c <= DIGIT_9 then
      i = match(s, '^%d*()', i + 1)
    else
      return nil
    end
    c = byte(s, i)
    if c == DOT then
      i = match(s, '^%d+()', i + 1)
      if not i then return nil end
      c = byte(s, i)
    end
    if c == EXPONENT or c == EXPONENT_CAPITAL then i = match(s, '^[-+]?%d+()', i + 1) end
    return i
  end

  -- An object's key and the colon after it.
  skipKey = function(s, i)
    local c
    tokens = tokens + 1
    if tokens > SCAN_TOKENS then error(TOO_COSTLY) end
    i, c = skipSpace(s, i)
    if c ~= QUOTE then return nil end
    i = skipString(s, i)
    if not i then return nil end
    i, c = skipSpace(s, i)
    if c ~= COLON then return nil end
    return i + 1
  end

  -- One value of any depth, without recursion: `closers` holds the closing byte of each container still open.
  skipValue = function(s, i)
    local closers, depth, c = {}, 0, nil
    while true do
      tokens = tokens + 1
      if tokens > SCAN_TOKENS then error(TOO_COSTLY) end
      i, c = skipSpace(s, i)
      if not i then return nil end
      local opened = false
      if c == OPEN_OBJECT or c == OPEN_ARRAY then
        local close, k = CLOSER[c], nil
        k, c = skipSpace(s, i + 1)
        if not k then return nil end
        if c == close then
          i = k + 1
        else
          depth, opened = depth + 1, true
          closers[depth] = close
          if close == CLOSE_OBJECT then i = skipKey(s, k) else i = k end
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
        elseif c == COMMA then
          if closers[depth] == CLOSE_OBJECT then i = skipKey(s, i + 1) else i = i + 1 end
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
    if c ~= OPEN_OBJECT and c ~= OPEN_ARRAY then return skipScalar(s, i, c) end
    local depth = 0
    while true do
      tokens = tokens + 1
      if tokens > SCAN_TOKENS then error(TOO_COSTLY) end
      local j = find(s, '[][{}"]', i)
      if not j then return nil end
      c = byte(s, j)
      if c == QUOTE then
        i = skipString(s, j)
        if not i then return nil end
      elseif c == OPEN_OBJECT or c == OPEN_ARRAY then
        depth, i = depth + 1, j + 1
      else
        depth, i = depth - 1, j + 1
        if depth == 0 then return i end
      end
    end
  end


  -- The messages of a stored value as Mesa could redeliver it: where each starts and how long it is; nil when
  -- Mesa could not redeliver it; raises TOO_COSTLY when judging it would pass the call's SCAN_TOKENS.
  readArray = function(s)
    scanned = scanned + #s
    local i, c = skipSpace(s, 1)
    if c ~= OPEN_ARRAY then return nil end
    local starts, lengths = {}, {}
    i, c = skipSpace(s, i + 1)
    while i and c ~= CLOSE_ARRAY do
      -- A null message stops Mesa's redelivery for good.
      if c == NULL_START then return nil end
      tokens = tokens + MESSAGE_TOKENS
      local e = skipValue(s, i)
      if not e then return nil end
      starts[#starts + 1], lengths[#lengths + 1] = i, e - i
      i, c = skipSpace(s, e)
      if c == COMMA then
        i, c = skipSpace(s, i + 1)
        if c == CLOSE_ARRAY then return nil end
      elseif c ~= CLOSE_ARRAY then
        return nil
      end
    end
    if not i or skipSpace(s, i + 1) then return nil end
    return starts, lengths
  end

