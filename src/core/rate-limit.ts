import { RateLimitedError, ValidationError } from '../errors.js'
import { MAX_RATE_LIMIT_REQUESTS, MAX_RATE_LIMIT_WINDOW_SECONDS } from '../limits.js'
import type { ScriptCharge } from '../script/protocol.js'
import type { MesaKeys } from './keys.js'
import type { RateLimit } from './types.js'

// Rate limits as the scripts count them: a fixed window aligned to the Unix epoch, one counter per name and window,
// charged by the very script call that does the work, so that a limited request costs no extra round trip.

/** One call's charge against a rate limit: the counter and spec the script reads, and what a refusal tells. */
export interface RateCharge extends ScriptCharge {
  readonly limit: RateLimit
  /** What the call counts as: 1, or a batch's number of dispatches. */
  readonly cost: number
  /** The end of the charged window, in unix seconds. */
  readonly windowEnd: number
  /**
   * The error for the script's refusal of this charge, so that a caller reports it without the rate limits' code: the
   * core the SQS and EventBridge functions build sends no charge, and carries none of it.
   */
  readonly refused: () => RateLimitedError
}

/** What a rate limit's name must be: it ends its counter's key, so it holds no ':'. */
const NAME = /^[A-Za-z0-9_.-]{1,64}$/

/**
 * The charge of a call that counts as `cost` requests against `limit`, in the window `now` falls in; none without a
 * limit. A cost larger than a whole window's budget can never be admitted: it is refused here, before any request.
 */
export function chargeFor(keys: MesaKeys, limit: RateLimit | undefined, cost: number, now = Date.now()): RateCharge | undefined {
  if (limit === undefined) return undefined
  checkRateLimit(limit)
  const { name, requests, windowSeconds } = limit
  if (cost > requests) {
    throw new RateLimitedError(
      name,
      undefined,
      `a request counted as ${cost} is more than key ${JSON.stringify(name)} may make in a whole window (${requests} per ${windowSeconds} s): send it in smaller batches`,
    )
  }
  const window = Math.floor(now / 1000 / windowSeconds)
  const windowEnd = (window + 1) * windowSeconds
  // The counter outlives its window by a second, so that a clock a little behind Redis's still finds it.
  const spec = `${requests}:${cost}:${windowEnd + 1}`
  const charge: RateCharge = { key: keys.rateCounter(name, windowSeconds, window), spec, limit, cost, windowEnd, refused: () => limitedBy(charge) }
  return charge
}

/** The error for a charge the script refused: the key, and the seconds until its next window starts (at least 1). */
function limitedBy(charge: RateCharge, now = Date.now()): RateLimitedError {
  const { name, requests, windowSeconds } = charge.limit
  const retryAfter = Math.max(1, Math.ceil(charge.windowEnd - now / 1000))
  return new RateLimitedError(
    name,
    retryAfter,
    `key ${JSON.stringify(name)} has made its ${requests} requests of this ${windowSeconds}-second window; nothing was applied: retry in ${retryAfter} s`,
  )
}

/** Checks a rate limit given to the Dispatcher; throws a ValidationError naming `rateLimit.<field>`. */
export function checkRateLimit(limit: RateLimit): void {
  if (typeof limit !== 'object' || limit === null) throw new ValidationError('rateLimit', 'must be { name, requests, windowSeconds }')
  if (typeof limit.name !== 'string' || !NAME.test(limit.name)) throw new ValidationError('rateLimit.name', 'must be 1-64 characters of A-Z a-z 0-9 _ . -')
  if (!isIntegerIn(limit.requests, MAX_RATE_LIMIT_REQUESTS)) {
    throw new ValidationError('rateLimit.requests', `must be an integer from 1 to ${MAX_RATE_LIMIT_REQUESTS}`)
  }
  if (!isIntegerIn(limit.windowSeconds, MAX_RATE_LIMIT_WINDOW_SECONDS)) {
    throw new ValidationError('rateLimit.windowSeconds', `must be an integer from 1 to ${MAX_RATE_LIMIT_WINDOW_SECONDS}`)
  }
}

const isIntegerIn = (value: unknown, max: number): boolean => Number.isSafeInteger(value) && (value as number) >= 1 && (value as number) <= max
