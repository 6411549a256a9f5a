import { PayloadTooLargeError } from '../errors.js'
import { commandBytes, type LuaScript } from '../script/lua-script.js'
import { jsonStringBytes } from '../script/protocol.js'
import type { ScriptRunner } from '../transport/runner.js'
import { checkOptions } from './dispatch-input.js'
import { fingerprintOf } from './fingerprint.js'
import type { MesaKeys } from './keys.js'
import { chargeFor } from './rate-limit.js'
import type { DispatchOptions, RateLimitOptions, Recipient } from './types.js'

// What the Dispatcher's questions (presence, backlogs) share: one script call each (a backlog page of a large value,
// one per range), bounded like a dispatch's.

/** How a question reaches Redis, Mesa's names, and the bounds it keeps: the Dispatcher's own. */
export interface QuestionContext {
  readonly runner: ScriptRunner
  readonly keys: MesaKeys
  readonly maxRecipients: number
  readonly maxRequestBytes: number
  readonly dedupeTtlSeconds: number
  /** Bytes of one page of a backlog read, as the endpoint answers it. */
  readonly maxBacklogPageBytes: number
  /** The largest stored value a backlog read reads. */
  readonly maxBacklogReadBytes: number
}

/**
 * An id as Mesa's servers write it into Redis: ioredis sends a number as its decimal string, so the client
 * that logged in with the number 7 is the member (and hash field) "7", as is the client "7".
 */
export const memberOf = (id: Recipient): string => String(id)

/**
 * What a clear's `id` claims: its key (in the clears' own space), for how long, and the fingerprint of what was
 * asked, which a retry must match; none without an id. Throws a ValidationError for a bad id.
 */
export function claimOf(context: QuestionContext, options: DispatchOptions, asked: string): { id: string; key: string; spec: string } | undefined {
  const { id, ttlSeconds } = checkOptions(options)
  if (id === undefined) return undefined
  return { id, key: context.keys.idempotency('clear', id), spec: `${ttlSeconds ?? context.dedupeTtlSeconds}:${fingerprintOf(['clear', asked])}` }
}

/**
 * What a question's script is given for its rate limit: the counter as an extra key, the charge as an argument
 * ('' for none), and a check of the reply that throws a RateLimitedError when the script refused the charge ('l').
 */
export function chargeArgs(context: QuestionContext, options: RateLimitOptions): { keys: string[]; args: [string]; refused(reply: unknown): void } {
  const charge = chargeFor(context.keys, options.rateLimit, 1)
  return {
    keys: charge ? [charge.key] : [],
    args: [charge?.spec ?? ''],
    refused(reply) {
      if (charge && reply === 'l') throw charge.refused()
    },
  }
}

/**
 * Runs one question's script in one call, refused before anything is sent when its request would be larger than
 * `maxRequestBytes` (ids can be long), as a dispatch is.
 */
export function ask(context: QuestionContext, script: LuaScript, keys: string[], args: string[]): Promise<unknown> {
  // The REST body is a JSON array of the command, the SHA (or the text, after a NOSCRIPT), the key count, the keys
  // and the arguments.
  let bytes = commandBytes(script, context.runner.keyLocking)
  for (const each of keys) bytes += jsonStringBytes(each) + 1
  for (const each of args) bytes += jsonStringBytes(each) + 1
  if (bytes > context.maxRequestBytes) {
    throw new PayloadTooLargeError(
      context.maxRequestBytes,
      `the question needs a Redis request of ${bytes} bytes, over MAX_REQUEST_BYTES (${context.maxRequestBytes}): ask about fewer or shorter ids`,
    )
  }
  return context.runner.run(script, keys, args)
}
