-- The bytes the JSON readers (json.lua) compare with string.byte, by name: JSON's punctuation, digits and letters.
-- Part of dispatch.lua and clear.lua, inlined where they say `-- @include dispatch/json-bytes.lua` by scripts/generate-lua.mjs.

  local QUOTE, BACKSLASH, COMMA, COLON, MINUS, DOT = byte('"'), byte('\\'), byte(','), byte(':'), byte('-'), byte('.')
  local OPEN_ARRAY, CLOSE_ARRAY, OPEN_OBJECT, CLOSE_OBJECT = byte('['), byte(']'), byte('{'), byte('}')
  local CLOSER = { [OPEN_ARRAY] = CLOSE_ARRAY, [OPEN_OBJECT] = CLOSE_OBJECT }
  local SPACE, TAB, LINE_FEED, CARRIAGE_RETURN = byte(' '), byte('\t'), byte('\n'), byte('\r')
  local DIGIT_0, DIGIT_1, DIGIT_9, EXPONENT, EXPONENT_CAPITAL = byte('0'), byte('1'), byte('9'), byte('e'), byte('E')
  local TRUE_START, FALSE_START, NULL_START, UNICODE_ESCAPE = byte('t'), byte('f'), byte('n'), byte('u')
  -- The letters that may follow a backslash on their own (JSON's short escapes).
  local SHORT_ESCAPES = {}
  for j = 1, 8 do SHORT_ESCAPES[byte('"\\/bfnrt', j)] = true end
