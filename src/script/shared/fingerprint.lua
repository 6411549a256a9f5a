-- Whether our index may vouch for a stored value: the first and the last of its messages are the very ones this
-- package wrote there (a SHA-1 prefix of each, kept in the index entry), and its length is too.
-- Part of dispatch.lua and cleanup.lua, inlined where they say `-- @include shared/fingerprint.lua` by
-- scripts/generate-lua.mjs; `hashOf` and `vouches` are declared by the script that includes it.

  -- The first 8 hex digits of a message's SHA-1, each message hashed once per call (most recipients of a dispatch
  -- share their last message, the one the dispatch before stored).
  local hashed = {}
  hashOf = function(message)
    local h = hashed[message]
    if not h then
      h = string.sub(redis.sha1hex(message), 1, 8)
      hashed[message] = h
    end
    return h
  end

  -- Checks a value against its entry, "<bytes>:<count>:<time>:<fp>:<lengths>", where `fp` is the first message's
  -- hash and the last's and `lengths` (from `lensAt`) list each message's length: the value must start with a
  -- message of the first length and that hash, and end with one of the last length and that hash. Another
  -- writer's value passes only by being our length and holding our very first and last messages at its two ends,
  -- byte for byte: not the length alone, which a value rewritten since (after a login, by Mesa's own Dispatcher)
  -- matched by chance.
  vouches = function(value, entry, lensAt, fp)
    local firstLength = tonumber(string.match(entry, '^(%d+)', lensAt))
    local lastLength = tonumber(string.match(entry, '[,:](%d+)$', math.max(lensAt - 1, #entry - 12)))
    if not firstLength or not lastLength or firstLength + 2 > #value or lastLength + 2 > #value then return false end
    return hashOf(string.sub(value, 2, 1 + firstLength)) == string.sub(fp, 1, 8)
      and hashOf(string.sub(value, #value - lastLength, #value - 1)) == string.sub(fp, 9, 16)
  end
