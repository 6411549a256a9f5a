-- Reading the values a dispatch may store into: the index first, then each value, checked unless the index vouches for it.
-- Part of dispatch.lua, inlined where it says `-- @include dispatch/read-values.lua` by scripts/generate-lua.mjs.


  -- Each index entry parsed once per call, as { bytes, count, lensAt, fp }: the recipients a call stores for mostly
  -- share their entry (the same messages, stored by the same calls), and a match with captures makes three strings.
  local parsed = {}
  local function parse(entry)
    local p = parsed[entry]
    if p == nil then
      local bytes, count, fp, lensAt = match(entry, '^(%d+):(%d+):%d+:(%x+):()')
      p = bytes and { tonumber(bytes), tonumber(count), lensAt, fp } or false
      parsed[entry] = p
    end
    return p
  end

  describe = function(name)
    local entry = known[name]
    if type(entry) == 'number' then return entry end
    local p = parsed[entry] or parse(entry)
    return p[1], p[2], p[3], entry, p[4]
  end

  -- Reads the index entries of `names`, sizing with HSTRLEN each value the index cannot vouch for. Names known
  -- already are asked again and their answer ignored: an extra field of one HMGET costs less than a table to leave
  -- them out (a value read or stored by this call is always known).
  survey = function(names)
    for from = 1, #names, CHUNK do
      local read = redis.call('HMGET', backlogs, unpack(names, from, math.min(from + CHUNK - 1, #names)))
      for j = 1, #read do
        local name, entry = names[from + j - 1], read[j]
        if not known[name] then
          -- An entry without a fingerprint (written before there was one) vouches for nothing: the value is checked.
          if entry and (parsed[entry] or parse(entry)) then known[name] = entry else known[name] = redis.call('HSTRLEN', undelivered, name) end
        end
      end
    end
  end

  -- Turns a value read from Redis into its working form, checking it unless the index vouches for it.
  newValue = function(name, value, meta)
    -- Every field is set here, so that the table is sized once.
    return {
      name = name, old = value, oldMeta = meta or false, first = 1, addedLen = 0, orig = 0, origLen = 0, count = 0,
      src = false, cut = false, close = false, lens = false, lensAt = false, size = false, listed = false, checkFrom = false,
      firstHash = false,
    }
  end

  open = function(name, value)
    if not value then return ABSENT end
    local size, count, lensAt, meta, fp = describe(name)
    local v = newValue(name, value, meta)
    if value == '' then return v end
    -- The index vouches for a value only when it is the one we wrote: our length, our first and last messages.
    if count and #value == size and (count == 0 or vouches(value, meta, lensAt, fp)) then
      if count > 0 then
        v.src, v.cut, v.close, v.orig, v.count = value, 2, #value, count, count
        v.origLen, v.lens, v.lensAt, v.firstHash = v.close - v.cut, meta, lensAt, sub(fp, 1, 8)
      end
      return v
    end
    if #value > SCAN_BYTES then
      -- Larger than one call may check; the index forgets it, so that later calls size it with HSTRLEN.
      v.forget = count ~= nil
      return TOO_LARGE, v
    end
    -- Not checkable within what this call has left: a later call does it.
    local first = scanned == 0 and tokens == 0
    if not first and scanned + #value > SCAN_BYTES then return nil end
    local ok, starts, lengths = pcall(readArray, value)
    if not ok then
      if starts ~= TOO_COSTLY then error(starts, 0) end
      -- More tokens than one call may check: left as is, as a larger value is, when this call had its whole budget
      -- for it; else a later call, which starts with it, tries.
      if not first then return nil end
      v.forget = count ~= nil
      return TOO_LARGE, v
    end
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
    -- `count` counts the batch rather than measuring it: `#` searches a growing table.
    local batch, want, count = {}, 0, 0
    for j = at, #names do
      local name = names[j]
      local entry = not values[name] and known[name]
      if entry then
        -- A known entry is a size, or an entry survey parsed.
        local p = parsed[entry]
        local size = p and p[1] or entry
        if count > 0 and want + size > room then break end
        count, want = count + 1, want + size
        batch[count] = name
      end
    end
    local read = redis.call('HMGET', undelivered, unpack(batch))
    for j = 1, #batch do
      local name, value = batch[j], read[j]
      -- Most offline recipients have nothing stored: that needs no call.
      local v, forgotten = ABSENT, nil
      if value then v, forgotten = open(name, value) end
      if v then
        values[name] = v
        if forgotten and forgotten.forget then forgets[#forgets + 1] = name end
      else
        known[name] = #read[j]
      end
    end
  end


