import {
  AuthenticationError,
  BacklogChangedError,
  BacklogTooLargeError,
  ConfigError,
  type FailureOutcome,
  ForbiddenError,
  IdempotencyConflictError,
  IncompleteDispatchError,
  MesaDispatchError,
  PayloadTooLargeError,
  RateLimitedError,
  RedisCommandError,
  RedisUnavailableError,
  ValidationError,
} from '../errors.js'
import { GENERATED_ID_TTL_SECONDS, RETRY_AFTER_SECONDS, SIGNATURE_TOLERANCE_SECONDS } from '../limits.js'

// The one place errors become HTTP answers: a status, a body that says whether anything was applied and how to
// retry safely, and the Retry-After header.

/** The first matching class wins, anything else is a 500. */
const STATUSES: ReadonlyArray<readonly [new (...args: never[]) => Error, number]> = [
  [ValidationError, 400],
  [AuthenticationError, 401],
  [ForbiddenError, 403],
  [IdempotencyConflictError, 409],
  [BacklogChangedError, 409],
  [PayloadTooLargeError, 413],
  // The request is sound and small; what it asks for cannot be answered within the endpoint's bounds.
  [BacklogTooLargeError, 422],
  [RateLimitedError, 429],
  [RedisCommandError, 502],
  [RedisUnavailableError, 503],
  [ConfigError, 503],
]

/**
 * What makes a retry of a request safe: an id of the caller's (a body `id`, an Idempotency-Key), its signature, an
 * id the endpoint made up for it (given back in the answer), or nothing.
 */
export type RetryBasis = 'id' | 'signature' | 'generated' | 'none'

/** What the answer to a failed request says: whether anything was applied, and how a retry applies it at most once. */
export interface AnswerContext {
  /** @default 'none' */
  retry?: RetryBasis
  /** The id made up for a request that came with none (`retry: 'generated'`), which a retry sends as its Idempotency-Key. */
  idempotencyKey?: string
  /** A question that only reads: whatever the transport could not tell, it applied nothing. @default false */
  read?: boolean
}

/** An error as the endpoint answers it. */
export interface ErrorBody {
  name: string
  message: string
  /** The request field at fault: a ValidationError's, or `cursor` for a BacklogChangedError. */
  field?: string
  /** Whether anything was applied: `none`, `unknown` or `partial` (see FailureOutcome). */
  outcome: FailureOutcome
  /** The Idempotency-Key to resend the request with, when it came with none and may have been applied. */
  idempotencyKey?: string
}

/** How to send a request again so that it is applied at most once; undefined when it cannot be. */
function howToRetry(context: AnswerContext): string | undefined {
  switch (context.retry) {
    case 'id':
      return 'send it again with the same id or Idempotency-Key'
    case 'signature':
      return `send the very same signed request again, unchanged, within ${SIGNATURE_TOLERANCE_SECONDS} seconds of its timestamp`
    case 'generated':
      return `send the same request again with the header Idempotency-Key: ${context.idempotencyKey} within ${GENERATED_ID_TTL_SECONDS} seconds`
    default:
      return undefined
  }
}

/** The HTTP status for an error thrown while handling a request. */
export function statusOf(error: unknown): number {
  // A dispatch applied in part failed the way its last part did: retrying is safe or not as for that error.
  if (error instanceof IncompleteDispatchError) return statusOf(error.cause)
  return STATUSES.find(([type]) => error instanceof type)?.[1] ?? 500
}

/** Whether anything was applied, as the answer says it: a read applies nothing; an unknown error, maybe something. */
export function outcomeOf(error: unknown, context: AnswerContext = {}): FailureOutcome {
  if (context.read) return 'none'
  return error instanceof MesaDispatchError ? error.outcome : 'unknown'
}

/**
 * The body of an error answer. A client's error says what to fix; a server-side one says only whether anything was
 * applied and how to retry, its detail going to the log.
 */
export function errorBody(error: unknown, context: AnswerContext = {}): ErrorBody {
  const status = statusOf(error)
  const name = error instanceof MesaDispatchError ? error.name : 'InternalError'
  const outcome = outcomeOf(error, context)
  const how = howToRetry(context)
  const key = outcome !== 'none' && context.retry === 'generated' ? { idempotencyKey: context.idempotencyKey! } : {}
  if (error instanceof IncompleteDispatchError) {
    return { name, message: how ? `${error.progress}; ${how} to finish it: no recipient gets it twice` : error.message, outcome, ...key }
  }
  if (status < 500) {
    const field = error instanceof ValidationError || error instanceof BacklogChangedError ? error.field : undefined
    return field !== undefined ? { name, message: (error as Error).message, field, outcome } : { name, message: (error as Error).message, outcome }
  }
  return { name, message: serverSideMessage(status, outcome, how), outcome, ...key }
}

function serverSideMessage(status: number, outcome: FailureOutcome, how: string | undefined): string {
  if (status === 502) return 'Redis refused the request; nothing was applied'
  if (status === 503 && outcome === 'none') return 'the dispatch endpoint cannot reach Redis right now; nothing was applied; retry later'
  const what = status === 503 ? 'Redis did not answer in time' : 'internal error'
  if (outcome === 'none') return `${what}; nothing was applied`
  return `${what}: the request may have been applied; ${how ? `${how} to apply it at most once` : 'it had no id, so sending it again may apply it twice: give it an id or an Idempotency-Key to retry it safely'}`
}

/** When to retry: a 503 after RETRY_AFTER_SECONDS, a 429 when its key's next window starts (never, for a request too large for any). */
export function retryHeaders(status: number, error: unknown): Record<string, string> {
  if (status === 503) return { 'retry-after': String(RETRY_AFTER_SECONDS) }
  if (error instanceof RateLimitedError && error.retryAfterSeconds !== undefined) return { 'retry-after': String(error.retryAfterSeconds) }
  return {}
}

/** A JSON response that no cache keeps; every answer of the app goes through here. */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
  })
}
