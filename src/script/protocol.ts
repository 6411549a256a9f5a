import { RedisCommandError } from '../errors.js'

// What goes into the dispatch script (src/script/dispatch.lua) and what comes back out of it: the only module
// besides the Lua that knows its KEYS, ARGV and reply.

/** One flag per recipient of a checked dispatch, telling the script what the member is. */
export const RECIPIENT_FLAG = {
  /** An id an earlier part of the same dispatch reached already: the script passes over it (its member is ''). */
  reached: 'r',
  wildcard: 'w',
  /** A non-blank string, stored for an offline recipient as Mesa would; its JSON is `"member"`. */
  storable: 's',
  /** A storable string whose JSON needs escaping, sent after the members. */
  storableEscaped: 'S',
  /** A string Mesa never stores (blank, or the message opts out of sync). */
  plain: 'p',
  plainEscaped: 'P',
  number: 'n',
} as const

/** The state the script reports for each recipient it processed; `skipped` for one an earlier part reached. */
export const RECIPIENT_STATE = { wildcard: 'w', online: '1', stored: '0', unstored: 'x', skipped: '-' } as const

/** What the script sends: a message's or event's JSON, and whether Mesa would store it for an offline recipient. */
export interface ScriptEvent {
  readonly json: string
  readonly isStorable: boolean
}

/** The Redis names of one Mesa namespace that a call touches. */
export interface ScriptKeys {
  readonly channel: string
  readonly connectedClients: string
  readonly undeliveredMessages: string
  readonly backlogs: string
}

/** A recipient as the script gets it: a string id, or a number Mesa compares strictly. */
type Recipient = string | number

/** The offline store's caps, as the script applies them. */
export interface StoreLimits {
  /** Messages kept per recipient; 0 means no limit. */
  readonly maxMessages: number
  /** Bytes kept per recipient, brackets included; 0 means no limit. */
  readonly maxBytes: number
  /** Bytes of stored values one script call may write. */
  readonly maxWriteBytes: number
}

/**
 * A request's charge against a rate limit (src/core/rate-limit.ts), shared by every part it admits: the counter's
 * key, and `<limit>:<cost>:<expire at>` for shared/charge.lua.
 */
export interface ScriptCharge {
  readonly key: string
  readonly spec: string
}

/** One dispatch's share of a script call: its KEYS and ARGV, in the order the script walks them. */
export interface ScriptPart {
  readonly keys: string[]
  readonly args: string[]
  /** The charge that must admit this part, when a rate limit counts it; the call carries each charge once. */
  readonly charge?: ScriptCharge
  /** Recipients the script checks one by one (0 when it publishes as given), to bound one call's Lua time. */
  readonly checks: number
  /** Bytes this part adds to the JSON body of the request, to keep a call under the request-size limit. */
  readonly bytes: number
}

/** What the Dispatcher asks the script to do for one dispatch. */
export interface ScriptInput {
  readonly event: ScriptEvent
  /** Recipients after `excluding` was applied. */
  readonly recipients: readonly Recipient[]
  /** Check the online set and store for offline recipients (sync on, and not an internal event). */
  readonly checkOnline: boolean
  /** The dispatch's own dedupe key, when it has an id (see ScriptDedupe). */
  readonly dedupe?: ScriptDedupe
  /** The ids that earlier parts of the dispatch reached, which this part passes over. @default none */
  readonly reached?: ReadonlySet<Recipient>
  /** A later part of a dispatch, which publishes only when it reaches someone: the first part always publishes. */
  readonly continuation?: boolean
}

/**
 * A dispatch's id as the script claims it: the key, how long it is kept, the fingerprint of the whole dispatch (the
 * same id with another request is a conflict), and where in the dispatch's recipients this part starts, so that a
 * retry resumes only where the dispatch stopped.
 */
export interface ScriptDedupe {
  readonly key: string
  readonly ttlSeconds: number
  readonly fingerprint: string
  /** How many of the dispatch's recipients come before this part's first. */
  readonly offset: number
}

/**
 * The KEYS and ARGV every call starts with, before its charges and its dispatches. ARGV[7], the number of charges,
 * follows them, added by the call that sends them (src/script/call-batcher.ts); its bytes are counted here, at its widest.
 */
export function callHead(keys: ScriptKeys, callKey: string, callKeyTtlSeconds: number, limits: StoreLimits, now: number): ScriptPart {
  const partKeys = [callKey, keys.connectedClients, keys.undeliveredMessages, keys.backlogs]
  const args = [callKeyTtlSeconds, Math.floor(now / 1000), limits.maxWriteBytes, limits.maxMessages, limits.maxBytes].map(String)
  args.push(keys.channel)
  const bytes = [...partKeys, ...args, String(MAX_CHARGES_PER_CALL)].reduce((sum, each) => sum + jsonStringBytes(each) + 1, 0)
  return { keys: partKeys, args, checks: 0, bytes }
}

/** The most charges one call can carry: one per dispatch at most. */
const MAX_CHARGES_PER_CALL = 1000

/**
 * A part that must be admitted by `charge`, its size counting the charge's key and spec and the `@<n>` its head
 * gains: each part counts them, though a call carries each charge once, so a call's size is never under-counted.
 */
export function chargedPart(part: ScriptPart, charge: ScriptCharge | undefined): ScriptPart {
  if (charge === undefined) return part
  const bytes = part.bytes + jsonStringBytes(charge.key) + 1 + jsonStringBytes(charge.spec) + 1 + 1 + String(MAX_CHARGES_PER_CALL).length
  return { ...part, charge, bytes }
}

/** Packs one dispatch into its KEYS and ARGV for the dispatch script. */
export function packDispatch(input: ScriptInput): ScriptPart {
  const { event, recipients, dedupe, reached } = input
  const own = dedupe ? [dedupe.key] : []
  // The head: the mode, then the id's TTL, fingerprint and offset when it has one.
  const claim = dedupe ? `${dedupe.ttlSeconds}:${dedupe.fingerprint}:${dedupe.offset}` : ''
  const fixed = own.reduce((sum, key) => sum + jsonStringBytes(key) + 1, claim.length + 4)
  if (!input.checkOnline) {
    // Built in JavaScript with the same composition Mesa's JSON.stringify({ message, recipients }) produces.
    const payload = `{"message":${event.json},"recipients":${JSON.stringify(recipients)}}`
    return { keys: own, args: [`p${claim}`, payload], checks: 0, bytes: fixed + jsonStringBytes(payload) + 1 }
  }
  const storable = event.isStorable
  const n = recipients.length
  const args = new Array<string>(3 + n)
  let flags = ''
  let bytes = fixed + messageBytes(event) + 1
  for (let i = 0; i < n; i++) {
    const recipient = recipients[i]!
    if (reached?.has(recipient)) {
      flags += RECIPIENT_FLAG.reached
      args[3 + i] = ''
      bytes += 3
      continue
    }
    if (typeof recipient === 'number') {
      flags += RECIPIENT_FLAG.number
      // ioredis, which Mesa uses, sends numbers as their decimal string: SISMEMBER 7 asks about "7".
      const member = String(recipient)
      args[3 + i] = member
      bytes += jsonStringBytes(member) + 1
      continue
    }
    args[3 + i] = recipient
    const size = jsonStringBytes(recipient)
    bytes += size + 1
    // Only a string with some character besides printable ASCII takes more than one byte a character: the others
    // need no test for escaping, which for a thousand ids cost more than measuring them.
    const escaped = size !== recipient.length + 2 && NEEDS_ESCAPING.test(recipient)
    if (escaped) {
      const json = JSON.stringify(recipient)
      args.push(json)
      bytes += jsonStringBytes(json) + 1
    }
    flags += flagOf(recipient, storable, escaped)
  }
  args[0] = `${input.continuation ? 'C' : 'c'}${claim}`
  args[1] = event.json
  args[2] = flags
  return { keys: own, args, checks: n, bytes: bytes + flags.length + 3 }
}

function flagOf(recipient: string, storable: boolean, escaped: boolean): string {
  if (recipient === '*') return RECIPIENT_FLAG.wildcard
  // Mesa's Dispatcher stores only non-blank string ids (`handleUndeliveredMessage`), never numbers.
  if (storable && !isBlank(recipient)) return escaped ? RECIPIENT_FLAG.storableEscaped : RECIPIENT_FLAG.storable
  return escaped ? RECIPIENT_FLAG.plainEscaped : RECIPIENT_FLAG.plain
}

/** Whether an id is empty or whitespace alone, as Mesa's `trim()` finds it; one that starts with a visible ASCII character needs no trimming to tell. */
function isBlank(recipient: string): boolean {
  const first = recipient.charCodeAt(0)
  return !(first > 0x20 && first < 0x7f) && recipient.trim().length === 0
}

/**
 * What JSON.stringify escapes in a string: quotes, backslashes, control characters, and (being well-formed)
 * lone surrogates; surrogate pairs are caught too, and merely take the explicit path.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the control characters JSON escapes
const NEEDS_ESCAPING = /["\\\u0000-\u001f\ud800-\udfff]/

const messageSizes = new WeakMap<ScriptEvent, number>()

/** The JSON-escaped size of a message, computed once per message however often it is dispatched. */
function messageBytes(event: ScriptEvent): number {
  let bytes = messageSizes.get(event)
  if (bytes === undefined) {
    bytes = jsonStringBytes(event.json)
    messageSizes.set(event, bytes)
  }
  return bytes
}

/** The UTF-8 length of `JSON.stringify(value)`: what a string adds to the JSON body of a REST request. */
export function jsonStringBytes(value: string): number {
  let bytes = 2
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i)
    if (code < 0x80) {
      if (code === 0x22 || code === 0x5c) bytes += 2
      else if (code >= 0x20) bytes += 1
      else bytes += SHORT_ESCAPES.has(code) ? 2 : 6
    } else if (code < 0x800) {
      bytes += 2
    } else if (code >= 0xd800 && code <= 0xdbff && isLowSurrogate(value.charCodeAt(i + 1))) {
      bytes += 4
      i++
    } else {
      // A lone surrogate is written as a \uXXXX escape by JSON.stringify.
      bytes += code >= 0xd800 && code <= 0xdfff ? 6 : 3
    }
  }
  return bytes
}

/** \b \t \n \f \r: the control characters JSON.stringify writes as two characters; the others take six. */
const SHORT_ESCAPES = new Set([0x08, 0x09, 0x0a, 0x0c, 0x0d])
const isLowSurrogate = (code: number) => code >= 0xdc00 && code <= 0xdfff

/** What the script did with one dispatch, before it is mapped back onto recipients. */
export type ScriptOutcome =
  /** Applied to the first `states.length` recipients; fewer states than recipients leaves the rest for another part. */
  | { readonly kind: 'applied'; readonly servers: number; readonly stored: number; readonly dropped: number; readonly states: string }
  /** The id was applied already, to every recipient. */
  | { readonly kind: 'duplicate' }
  /** The id was applied already to the dispatch's first `reached` recipients: the rest goes from there. */
  | { readonly kind: 'progress'; readonly reached: number }
  /** The id was claimed by another request (another fingerprint): nothing was done. */
  | { readonly kind: 'conflict' }
  /** Nothing was done: the call's write budget ran out before this dispatch. */
  | { readonly kind: 'deferred' }
  /** Nothing was done: the dispatch's charge found its rate limit's window full. */
  | { readonly kind: 'limited' }

/** One line of the script's reply: a dispatch's outcome, or the error Redis gave it. */
export type ScriptLine = ScriptOutcome | RedisCommandError

const APPLIED = /^n(\d+):(\d+):(\d+):([w10x-]*)$/
const PROGRESS = /^p(\d+)$/

/** Splits the script's reply into one line per dispatch, rejecting anything that is not the shape the script returns. */
export function decodeScriptReply(reply: unknown, count: number): ScriptLine[] {
  const lines = typeof reply === 'string' ? reply.split('\n') : []
  if (lines.length !== count) throw unexpectedReply()
  return lines.map((line): ScriptLine => {
    if (line.startsWith('e')) return new RedisCommandError(`Redis answered an error: ${line.slice(1)}`)
    if (line === 'r') return { kind: 'deferred' }
    if (line === 'l') return { kind: 'limited' }
    if (line === 'd') return { kind: 'duplicate' }
    if (line === 'c') return { kind: 'conflict' }
    const progress = PROGRESS.exec(line)
    if (progress) return { kind: 'progress', reached: Number(progress[1]) }
    const applied = APPLIED.exec(line)
    if (!applied) throw unexpectedReply()
    return { kind: 'applied', servers: Number(applied[1]), stored: Number(applied[2]), dropped: Number(applied[3]), states: applied[4]! }
  })
}

const unexpectedReply = () => new RedisCommandError('the dispatch script returned an unexpected reply')
