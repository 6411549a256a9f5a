import { ConfigError, DispatchEndpointError, type FailureOutcome } from '../errors.js'
import { CLIENT_RETRY_BASE_DELAY_MS, CLIENT_RETRY_MAX_DELAY_MS, DEFAULT_CLIENT_DEADLINE_MS, DEFAULT_CLIENT_MAX_RETRIES } from '../limits.js'
import type { DispatchClientOptions } from './types.js'

// Retrying a client call: which failures a retry can fix, how long to wait before the next attempt, and the error
// the call ends with, which says what every attempt together may have applied.

/** When and how often a call is sent again, with the clock it is timed by. */
export interface RetryPolicy {
  /** Attempts after the first. */
  maxRetries: number
  /** Milliseconds the whole call may take, its attempts and the waits between them. */
  deadlineMs: number
  now: () => number
  sleep: (ms: number) => Promise<void>
}

/** The retry settings of a client, checked, with the clock its waits are timed by. */
export function retryPolicy(options: DispatchClientOptions): RetryPolicy {
  const maxRetries = options.maxRetries ?? DEFAULT_CLIENT_MAX_RETRIES
  const deadlineMs = options.deadlineMs ?? DEFAULT_CLIENT_DEADLINE_MS
  if (!Number.isSafeInteger(maxRetries) || maxRetries < 0) throw new ConfigError('maxRetries', 'must be a whole number, 0 or more')
  if (!(deadlineMs > 0)) throw new ConfigError('deadlineMs', 'must be above 0')
  return {
    maxRetries,
    deadlineMs,
    now: options.now ?? Date.now,
    sleep: options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
  }
}

/** What an attempt is handed: the milliseconds the deadline leaves it. */
export type Attempt<T> = (timeLeftMs: number) => Promise<T>

/** Each outcome by how much it may have applied. */
export const RANK: Record<FailureOutcome, number> = { none: 0, unknown: 1, partial: 2 }

/** The outcome of every attempt together: the most that any of them may have applied. */
export function worstOutcome(a: FailureOutcome, b: FailureOutcome): FailureOutcome {
  return RANK[a] >= RANK[b] ? a : b
}

/**
 * Whether sending the call again can help: no answer at all, a 429, or a 5xx other than Redis refusing the
 * request (a script error or a wrong type, which fails the same way each time). A 409 is an id reused for another
 * request or a backlog that changed, and every other 4xx is the caller's to fix, so neither is ever retried.
 */
export function isRetryable(error: DispatchEndpointError): boolean {
  const { status, errorName } = error
  return status === 0 || status === 429 || (status >= 500 && errorName !== 'RedisCommandError')
}

/**
 * The wait before retry number `retry` (1 for the first): the endpoint's `Retry-After` when it gave one, else a
 * random part of an exponential backoff (full jitter), so that callers failed by one outage do not come back at once.
 */
export function retryDelayMs(retry: number, retryAfter: number | undefined): number {
  if (retryAfter !== undefined) return retryAfter * 1000
  return Math.random() * Math.min(CLIENT_RETRY_MAX_DELAY_MS, CLIENT_RETRY_BASE_DELAY_MS * 2 ** (retry - 1))
}

/**
 * Runs `attempt` until it resolves, fails in a way a retry cannot fix, has been retried `maxRetries` times, or the
 * next wait would pass the deadline. It rejects with the last failure, made to say how many attempts were sent,
 * the `Idempotency-Key` they all carried and the worst outcome of them all.
 */
export async function withRetries<T>(policy: RetryPolicy, attempt: Attempt<T>, idempotencyKey: string | undefined): Promise<T> {
  const endsAt = policy.now() + policy.deadlineMs
  let outcome: FailureOutcome = 'none'
  for (let attempts = 1; ; attempts++) {
    let failure: DispatchEndpointError
    try {
      return await attempt(Math.max(1, endsAt - policy.now()))
    } catch (error) {
      if (!(error instanceof DispatchEndpointError)) throw error
      failure = error
    }
    outcome = worstOutcome(outcome, failure.outcome)
    const delay = retryDelayMs(attempts, failure.retryAfter)
    const more = attempts <= policy.maxRetries && isRetryable(failure) && policy.now() + delay < endsAt
    if (!more) throw lastFailure(failure, { outcome, attempts, idempotencyKey })
    await policy.sleep(delay)
  }
}

function lastFailure(error: DispatchEndpointError, across: { outcome: FailureOutcome; attempts: number; idempotencyKey: string | undefined }) {
  const { status, errorName, field, retryAfter } = error
  return new DispatchEndpointError(error.message, { status, errorName, field, retryAfter, ...across }, { cause: error.cause })
}
