-- Phase 2: the stores of the whole call, each value and its index entry written once, with an undo log.
-- Part of dispatch.lua, inlined where it says `-- @include dispatch/write-stores.lua` by scripts/generate-lua.mjs.

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
-- The value and index entry of a one-message value, by its message, each made once per call.
local singleValues, singleEntries = {}, {}
if #touchedOrder > 0 or #forgets > 0 then
  -- `at`: the entries of valuesCommand, counted rather than measured, since `#` searches a growing table.
  local valuesCommand, indexCommand, at = { 'HSET', undelivered }, { 'HSET', backlogs, '', KEEP_TABLE }, 2
  local function flush(upTo)
    if at > 2 then
      failure = write(valuesCommand)
      if not failure then failure = write(indexCommand) end
      if failure then
        undoStores(upTo)
        for j = #undo, 1, -1 do pcall(redis.call, unpack(undo[j])) end
        undo = {}
      end
    end
    valuesCommand, indexCommand, at = { 'HSET', undelivered }, { 'HSET', backlogs, '', KEEP_TABLE }, 2
  end
  for j = 1, #touchedOrder do
    if failure then break end
    local name = touchedOrder[j]
    local v = values[name]
    local value, entry
    if type(v) == 'string' then
      -- A value of one message: the recipients of a dispatch who had nothing stored share its text and its entry.
      value = singleValues[v]
      if value then
        entry = singleEntries[v]
      else
        value = '[' .. v .. ']'
        local h = hashOf(v)
        entry = text(#value) .. ':1:' .. now .. ':' .. h .. h .. ':' .. text(#v)
        singleValues[v], singleEntries[v] = value, entry
      end
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
      -- The fingerprint of the first message and the last: the first kept original (hashed again only when the
      -- oldest were dropped, or the value was not ours), else the first appended; the last is always appended.
      -- The kept originals' lengths go into the entry's one concatenation: at the caps they are some 4 KB.
      local first, kept, comma = nil, '', ''
      if v.orig > 0 then
        kept, comma = sub(v.lens, v.lensAt), ','
        first = (v.cut == 2 and v.firstHash) or hashOf(sub(v.src, v.cut, v.cut + tonumber(match(v.lens, '^(%d+)', v.lensAt)) - 1))
      else
        first = hashOf(v[v.first])
      end
      entry = text(#value) .. ':' .. text(v.count) .. ':' .. now .. ':' .. first .. hashOf(v[#v]) .. ':' .. kept .. comma .. lengths
    end
    if value then
      -- The index command holds two more entries than the values command: the field '' and KEEP_TABLE.
      valuesCommand[at + 1], valuesCommand[at + 2] = name, value
      indexCommand[at + 3], indexCommand[at + 4] = name, entry
      at = at + 2
    end
    if at >= 2 * CHUNK + 2 then flush(j) end
  end
  if not failure then flush(#touchedOrder) end
  if #forgets > 0 and not failure then pcall(redis.call, 'HDEL', backlogs, unpack(forgets)) end
end
if failure then
  for _, d in ipairs(dispatches) do
    if not d.line and not d.twin and d.stored > 0 then fail(d, failure) end
  end
end
