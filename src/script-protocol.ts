import type { Dispatchable, Recipient } from './message'
import type { MesaKeys } from './keys'
import { RedisCommandError } from './errors'

// What goes into the dispatch script (src/script.ts) for each dispatch, and what comes back out of it.

/** One dispatch's share of a script call: its KEYS and ARGV, in the order the script walks them. */
export interface ScriptPart {
  readonly keys: string[]
  readonly args: string[]
  /** Recipients the script checks one by one (0 when it publishes as given), to bound one call's Lua time. */
  readonly checks: number
  /** Characters of ARGV, to bound one call's request size. */
  readonly chars: number
}

/** What the Dispatcher asks the script to do for one dispatch. */
export interface ScriptInput {
  readonly keys: MesaKeys
  readonly event: Dispatchable
  /** Recipients after `excluding` was applied. */
  readonly recipients: readonly Recipient[]
  /** Check the online set and store for offline recipients (sync on, and not an internal event). */
  readonly checkOnline: boolean
  /** The dispatch's own dedupe key and how long it is kept, when the caller gave an id. */
  readonly dedupe?: { readonly key: string; readonly ttlSeconds: number }
}

/** Packs one dispatch into its KEYS and ARGV for the dispatch script. */
export function packDispatch(input: ScriptInput): ScriptPart {
  const { keys, event, recipients, dedupe } = input
  const own = dedupe ? [dedupe.key] : []
  const ttl = dedupe ? String(dedupe.ttlSeconds) : ''
  if (!input.checkOnline) {
    // Built in JavaScript with the same composition Mesa's JSON.stringify({ message, recipients }) produces.
    const payload = `{"message":${event.json},"recipients":${JSON.stringify(recipients)}}`
    return { keys: own, args: [`p${ttl}`, keys.channel, payload], checks: 0, chars: payload.length }
  }
  const storable = event.isStorable
  const n = recipients.length
  const args = new Array<string>(4 + n)
  let flags = ''
  let chars = event.json.length
  for (let i = 0; i < n; i++) {
    const recipient = recipients[i]!
    if (typeof recipient === 'number') {
      flags += 'n'
      // ioredis, which Mesa uses, sends numbers as their decimal string: SISMEMBER 7 asks about "7".
      chars += (args[4 + i] = String(recipient)).length
      continue
    }
    args[4 + i] = recipient
    chars += recipient.length
    const escaped = NEEDS_ESCAPING.test(recipient)
    if (escaped) {
      const json = JSON.stringify(recipient)
      args.push(json)
      chars += json.length
    }
    flags += recipient === '*' ? 'w' : storable && recipient.trim().length > 0 ? (escaped ? 'S' : 's') : escaped ? 'P' : 'p'
  }
  args[0] = `c${ttl}`
  args[1] = keys.channel
  args[2] = event.json
  args[3] = flags
  own.push(keys.connectedClients, keys.undeliveredMessages)
  return { keys: own, args, checks: n, chars: chars + n }
}

/**
 * What JSON.stringify escapes in a string: quotes, backslashes, control characters, and (being well-formed)
 * lone surrogates; surrogate pairs are caught too, and merely take the explicit path. Mesa's Dispatcher stores
 * only non-blank string ids (`handleUndeliveredMessage`), never numbers, hence the flags above.
 */
const NEEDS_ESCAPING = /["\\\u0000-\u001f\ud800-\udfff]/

/** What the script reports for one dispatch, before it is mapped back onto recipients. */
export interface ScriptOutcome {
  /** True when the dispatch's id was already applied: nothing was done by this call. */
  readonly duplicate: boolean
  /** How many subscribers heard the PUBLISH (of the original dispatch, for a duplicate). */
  readonly servers: number
  /** How many offline recipients got the message appended. */
  readonly stored: number
  /** One character per recipient: 'w' wildcard, '1' online, '0' offline; empty when nothing was checked. */
  readonly states: string
}

/** One line of the script's reply: a dispatch's outcome, or the error Redis gave it. */
export type ScriptLine = ScriptOutcome | RedisCommandError

const LINE = /^([nd])(\d+):(\d+):([w10]*)$/

/** Splits the script's reply into one line per dispatch, rejecting anything that is not the shape the script returns. */
export function decodeScriptReply(reply: unknown, count: number): ScriptLine[] {
  const lines = typeof reply === 'string' ? reply.split('\n') : []
  if (lines.length !== count) throw new RedisCommandError('the dispatch script returned an unexpected reply')
  return lines.map((line) => {
    if (line.startsWith('e')) return new RedisCommandError(`Redis answered an error: ${line.slice(1)}`)
    const match = LINE.exec(line)
    if (!match) throw new RedisCommandError('the dispatch script returned an unexpected reply')
    return { duplicate: match[1] === 'd', servers: Number(match[2]), stored: Number(match[3]), states: match[4]! }
  })
}
