import type { Dispatchable, Recipient } from './message'
import type { MesaKeys } from './keys'
import { RedisCommandError } from './errors'

/**
 * One dispatch, atomically, in one round trip: dedupe, online check, offline store, PUBLISH.
 *
 * Why each step is written the way it is:
 * - Every key arrives through KEYS, as Redis requires of scripts; the channel is not a key.
 * - All reads come before the first write, and the first write is the dedupe `SET NX EX`. Redis refuses a
 *   script's first write under OOM and lets later writes through, so an error leaves nothing half-done. The
 *   key is read first rather than only SET NX'd, so that a failing read cannot leave a claimed id behind.
 *   https://redis.io/docs/latest/develop/interact/programmability/eval-intro/#script-flags
 * - Stored arrays are extended by string surgery, never cjson: cjson would rewrite `0.30000000000000004` as
 *   `0.3` and `[]` as `{}`, and the bytes must stay exactly as JavaScript serialized them.
 * - A stored value that is not a bracketed array is replaced, as Mesa's Dispatcher does after a failed parse.
 * - `unpack` is bounded by Lua's C stack (about 8000 values), so variadic calls go in chunks of 1000.
 * - Each recipient is sent once, as the member the set holds; its JSON is rebuilt here (`"id"`, or the number
 *   as is), and only ids that JSON must escape also carry their JavaScript-made JSON.
 * - The reply is tagged strings, which no JSON decoder can mistake for something else.
 *
 * Mode 'p' (publish the payload as given): KEYS dedupe; ARGV channel, 'p', payload, TTL.
 * Mode 'c' (check online first): KEYS dedupe, connected_clients, undelivered_messages; ARGV channel, 'c',
 * message JSON, TTL, one flag per recipient, the n members, then the JSON of each escaped id. Flags: 'w' the
 * wildcard, 's'/'S' a storable string (plain/escaped), 'p'/'P' a string never stored, 'n' a number.
 */
export const DISPATCH_SCRIPT = `
local held = redis.call('GET', KEYS[1])
if held then return {'d', held} end
local CHUNK = 1000
local msg, payload, state, fields = ARGV[3], ARGV[3], '', {}
local function append(existing, json)
  local items = existing and existing:match('^%s*%[(.*)%]%s*$')
  if not items or not items:find('%S') then return '[' .. json .. ']' end
  return '[' .. items .. ',' .. json .. ']'
end
if ARGV[2] == 'c' then
  local flags = ARGV[5]
  local n = #flags
  -- Members are checked straight from ARGV, unless a '*' must be left out: then from a list of the others.
  local online, source, base, at = {}, ARGV, 5, nil
  if flags:find('w', 1, true) then
    source, base, at = {}, 0, {}
    for i = 1, n do
      if flags:byte(i) ~= 119 then source[#source + 1] = ARGV[5 + i]; at[#at + 1] = i end
    end
  end
  local count = at and #at or n
  for from = 1, count, CHUNK do
    local r = redis.call('SMISMEMBER', KEYS[2], unpack(source, base + from, base + math.min(from + CHUNK - 1, count)))
    for j = 1, #r do online[at and at[from + j - 1] or from + j - 1] = r[j] == 1 end
  end
  local published, queued, states, escaped = {}, {}, {}, 5 + n
  for i = 1, n do
    local flag, member = flags:byte(i), ARGV[5 + i]
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
end
local values = {}
for from = 1, #fields, CHUNK do
  local r = redis.call('HMGET', KEYS[3], unpack(fields, from, math.min(from + CHUNK - 1, #fields)))
  for j = 1, #r do values[from + j - 1] = r[j] end
end
redis.call('SET', KEYS[1], '', 'NX', 'EX', ARGV[4])
for from = 1, #fields, CHUNK do
  local batch = {}
  for j = from, math.min(from + CHUNK - 1, #fields) do
    batch[#batch + 1] = fields[j]; batch[#batch + 1] = append(values[j] or nil, msg)
  end
  redis.call('HSET', KEYS[3], unpack(batch))
end
local servers = redis.call('PUBLISH', ARGV[1], payload)
local result = servers .. ':' .. #fields .. ':' .. state
redis.call('SET', KEYS[1], result, 'EX', ARGV[4])
return {'n', result}
`

/** The KEYS and ARGV of one script call. */
export interface ScriptCall {
  readonly keys: string[]
  readonly args: string[]
}

/** What the Dispatcher asks the script to do for one dispatch. */
export interface ScriptInput {
  readonly keys: MesaKeys
  readonly event: Dispatchable
  /** Recipients after `excluding` was applied. */
  readonly recipients: readonly Recipient[]
  /** Check the online set and store for offline recipients (sync on, and not an internal event). */
  readonly checkOnline: boolean
  readonly dedupeKey: string
  readonly dedupeTtlSeconds: number
}

/** Packs one dispatch into KEYS and ARGV for {@link DISPATCH_SCRIPT}. */
export function packScriptCall(input: ScriptInput): ScriptCall {
  const { keys, event, recipients } = input
  const ttl = String(input.dedupeTtlSeconds)
  if (!input.checkOnline) {
    // Built in JavaScript with the same composition Mesa's JSON.stringify({ message, recipients }) produces.
    const payload = `{"message":${event.json},"recipients":${JSON.stringify(recipients)}}`
    return { keys: [input.dedupeKey], args: [keys.channel, 'p', payload, ttl] }
  }
  const storable = event.isStorable
  const n = recipients.length
  const args = new Array<string>(5 + n)
  let flags = ''
  for (let i = 0; i < n; i++) {
    const recipient = recipients[i]!
    if (typeof recipient === 'number') {
      flags += 'n'
      // ioredis, which Mesa uses, sends numbers as their decimal string: SISMEMBER 7 asks about "7".
      args[5 + i] = String(recipient)
      continue
    }
    args[5 + i] = recipient
    const escaped = NEEDS_ESCAPING.test(recipient)
    if (escaped) args.push(JSON.stringify(recipient))
    flags += recipient === '*' ? 'w' : storable && recipient.trim().length > 0 ? (escaped ? 'S' : 's') : escaped ? 'P' : 'p'
  }
  args[0] = keys.channel
  args[1] = 'c'
  args[2] = event.json
  args[3] = ttl
  args[4] = flags
  return { keys: [input.dedupeKey, keys.connectedClients, keys.undeliveredMessages], args }
}

/**
 * What JSON.stringify escapes in a string: quotes, backslashes, control characters, and (being well-formed)
 * lone surrogates; surrogate pairs are caught too, and merely take the explicit path. Mesa's Dispatcher stores
 * only non-blank string ids (`handleUndeliveredMessage`), never numbers, hence the flags above.
 */
const NEEDS_ESCAPING = /["\\\u0000-\u001f\ud800-\udfff]/

/** What the script reports, before it is mapped back onto recipients. */
export interface ScriptOutcome {
  /** True when the dedupe key was already held: nothing was done by this call. */
  readonly duplicate: boolean
  /** How many subscribers heard the PUBLISH (of the original call, for a duplicate). */
  readonly servers: number
  /** How many offline recipients got the message appended. */
  readonly stored: number
  /** One character per recipient: 'w' wildcard, '1' online, '0' offline; empty when nothing was checked. */
  readonly states: string
}

/** Decodes the script's reply, rejecting anything that is not the shape the script returns. */
export function decodeScriptReply(reply: unknown): ScriptOutcome {
  if (Array.isArray(reply) && reply.length === 2 && (reply[0] === 'n' || reply[0] === 'd')) {
    const match = typeof reply[1] === 'string' ? /^(\d+):(\d+):([w10]*)$/.exec(reply[1]) : null
    if (match) {
      return { duplicate: reply[0] === 'd', servers: Number(match[1]), stored: Number(match[2]), states: match[3]! }
    }
  }
  throw new RedisCommandError('the dispatch script returned an unexpected reply')
}
