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
 * - The reply is tagged strings, so `@upstash/redis`'s automatic JSON deserialization leaves them alone.
 *
 * KEYS: connected_clients, undelivered_messages, dedupe key.
 * ARGV: channel, mode ('p' publish the given payload | 'c' check online first), payload or message JSON,
 *       dedupe TTL seconds, one flag per recipient ('w' the wildcard, 's' storable, 'n' never stored),
 *       then the n members as the set holds them, then the n recipients' JSON.
 */
export const DISPATCH_SCRIPT = `
local held = redis.call('GET', KEYS[3])
if held then return {'d', held} end
local CHUNK = 1000
local payload, stored, state = ARGV[3], 0, {}
local function isSpace(b) return b == 32 or b == 9 or b == 10 or b == 13 end
local function append(existing, msg)
  if not existing then return '[' .. msg .. ']' end
  local a, z = 1, #existing
  while a <= z and isSpace(existing:byte(a)) do a = a + 1 end
  while z >= a and isSpace(existing:byte(z)) do z = z - 1 end
  if a > z or existing:byte(a) ~= 91 or existing:byte(z) ~= 93 then return '[' .. msg .. ']' end
  local b = a + 1
  while b < z and isSpace(existing:byte(b)) do b = b + 1 end
  if b == z then return '[' .. msg .. ']' end
  return existing:sub(a, z - 1) .. ',' .. msg .. ']'
end
local fields = {}
if ARGV[2] == 'c' then
  local flags = ARGV[5]
  local n = #flags
  local checked, at = {}, {}
  for i = 1, n do
    if flags:byte(i) ~= 119 then checked[#checked + 1] = ARGV[5 + i]; at[#at + 1] = i end
  end
  local online = {}
  for from = 1, #checked, CHUNK do
    local r = redis.call('SMISMEMBER', KEYS[1], unpack(checked, from, math.min(from + CHUNK - 1, #checked)))
    for j = 1, #r do online[at[from + j - 1]] = r[j] == 1 end
  end
  local published, queued = {}, {}
  for i = 1, n do
    local flag = flags:byte(i)
    if flag == 119 then
      published[#published + 1] = ARGV[5 + n + i]; state[i] = 'w'
    elseif online[i] then
      published[#published + 1] = ARGV[5 + n + i]; state[i] = '1'
    else
      state[i] = '0'
      local member = ARGV[5 + i]
      if flag == 115 and not queued[member] then queued[member] = true; fields[#fields + 1] = member end
    end
  end
  payload = '{"message":' .. ARGV[3] .. ',"recipients":[' .. table.concat(published, ',') .. ']}'
end
local values = {}
for from = 1, #fields, CHUNK do
  local r = redis.call('HMGET', KEYS[2], unpack(fields, from, math.min(from + CHUNK - 1, #fields)))
  for j = 1, #r do values[from + j - 1] = r[j] end
end
redis.call('SET', KEYS[3], '', 'NX', 'EX', ARGV[4])
for from = 1, #fields, CHUNK do
  local batch = {}
  for j = from, math.min(from + CHUNK - 1, #fields) do
    batch[#batch + 1] = fields[j]; batch[#batch + 1] = append(values[j] or nil, ARGV[3])
  end
  redis.call('HSET', KEYS[2], unpack(batch))
end
stored = #fields
local servers = redis.call('PUBLISH', ARGV[1], payload)
local result = servers .. ':' .. stored .. ':' .. table.concat(state)
redis.call('SET', KEYS[3], result, 'EX', ARGV[4])
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
  const keyList = [keys.connectedClients, keys.undeliveredMessages, input.dedupeKey]
  const ttl = String(input.dedupeTtlSeconds)
  if (!input.checkOnline) {
    // Built in JavaScript with the same composition Mesa's JSON.stringify({ message, recipients }) produces.
    const payload = `{"message":${event.json},"recipients":${JSON.stringify(recipients)}}`
    return { keys: keyList, args: [keys.channel, 'p', payload, ttl, ''] }
  }
  const storable = event.isStorable
  const n = recipients.length
  const args = new Array<string>(5 + 2 * n)
  let flags = ''
  for (let i = 0; i < n; i++) {
    const recipient = recipients[i]!
    flags += recipient === '*' ? 'w' : storable && isStorableRecipient(recipient) ? 's' : 'n'
    // ioredis, which Mesa uses, sends numbers as their decimal string: SISMEMBER 7 asks about "7".
    args[5 + i] = String(recipient)
    args[5 + n + i] = JSON.stringify(recipient)
  }
  args[0] = keys.channel
  args[1] = 'c'
  args[2] = event.json
  args[3] = ttl
  args[4] = flags
  return { keys: keyList, args }
}

/** Mesa's Dispatcher stores only for non-blank string ids (`handleUndeliveredMessage`), never for numbers. */
function isStorableRecipient(recipient: Recipient): boolean {
  return typeof recipient === 'string' && recipient.trim().length > 0
}

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
