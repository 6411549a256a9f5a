import type { DispatchResult, Recipient } from './core/types.js'

/**
 * Every error this package throws. Each subclass sets `name` and keeps `cause`, so callers can branch on
 * `instanceof` and logs stay readable. Errors become HTTP statuses in exactly one place (`app.ts`) and
 * failed-record reports in exactly one other (`functions/sqs.ts`).
 */

/**
 * Whether anything was applied when an error was thrown: `none`, certainly nothing (refused before sending, a
 * connection refused, a script Redis refused whole); `unknown`, it may have been (a timeout, or a connection lost,
 * after the request was sent): send it again with the same id, which applies it at most once; `partial`, some parts
 * of a dispatch were applied, and the same id finishes it.
 */
export type FailureOutcome = 'none' | 'unknown' | 'partial'

/** What an error of this package is built with besides its message. */
export interface ErrorOptions {
  cause?: unknown
  /** @default 'none' */
  outcome?: FailureOutcome
}

/** The base of every error thrown by this package. */
export class MesaDispatchError extends Error {
  override name = 'MesaDispatchError'
  /** Whether anything was applied (see FailureOutcome): what a caller must know before retrying. */
  declare readonly outcome: FailureOutcome

  constructor(message: string, options?: ErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    // Not enumerable, as `message` is not: printing an error shows what failed, and an init error stays one line.
    Object.defineProperty(this, 'outcome', { value: options?.outcome ?? 'none', enumerable: false, writable: false })
  }
}

/** Input that can never succeed: a bad message, recipient list, option or request field, named in `field`. */
export class ValidationError extends MesaDispatchError {
  override name = 'ValidationError'

  constructor(
    /** The offending field as a dotted path, e.g. `message.op` or `recipients[3]`. */
    readonly field: string,
    /** What is wrong with it, e.g. `must be a string`. */
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(`${field} ${problem}`, options)
  }

  /** The same problem, reported at another path: a batch item's, or a nested object's. */
  relocated(field: string): ValidationError {
    return new ValidationError(field, this.problem, { cause: this.cause })
  }
}

/** One wrong setting: the variable (or config key) and what is wrong with it, never its value. */
export interface ConfigProblem {
  variable: string
  problem: string
}

/**
 * A missing or malformed setting, named in `variable` (an env variable or a config key), or several found
 * together (`combineConfigErrors` in src/config.ts), each in `problems` and all named in `variable`, comma-separated.
 */
export class ConfigError extends MesaDispatchError {
  override name = 'ConfigError'
  /** Every problem this error stands for, in the order they were found: one, unless combined. */
  readonly problems: readonly ConfigProblem[]

  constructor(
    /** The env variable or config key at fault, e.g. `UPSTASH_REDIS_REST_URL`. */
    readonly variable: string,
    problem: string,
    options?: { cause?: unknown; problems?: readonly ConfigProblem[]; message?: string },
  ) {
    super(options?.message ?? `${variable} ${problem}`, options)
    this.problems = options?.problems ?? [{ variable, problem }]
  }
}

/** A failure talking to Redis, with the HTTP status of the last answer when it came over HTTP. */
export abstract class RedisError extends MesaDispatchError {
  constructor(
    message: string,
    /** The HTTP status of the last answer, when there was one. */
    readonly status?: number,
    options?: ErrorOptions,
  ) {
    super(message, options)
  }
}

/**
 * Redis could not be reached or did not answer in time: network errors, timeouts and 5xx answers. Its `outcome` is
 * `none` when no attempt can have reached Redis (a connection refused, a host that does not resolve), else `unknown`.
 */
export class RedisUnavailableError extends RedisError {
  override name = 'RedisUnavailableError'

  constructor(message: string, status?: number, options?: ErrorOptions) {
    super(message, status, { outcome: 'unknown', ...options })
  }
}

/** Redis answered with an error (a script error, WRONGTYPE, a rejected token): retrying will not help. */
export class RedisCommandError extends RedisError {
  override name = 'RedisCommandError'
}

/** The Redis REST endpoint refused the token (HTTP 401 or 403): a setting to fix, not a command that failed. */
export class RedisTokenRefusedError extends RedisCommandError {
  override name = 'RedisTokenRefusedError'
}

/** Missing, malformed, expired or wrong credentials on a dispatch request. */
export class AuthenticationError extends MesaDispatchError {
  override name = 'AuthenticationError'
}

/** Valid credentials of a key that may not call this route: `key "<name>" lacks the scope <scope>`. */
export class ForbiddenError extends MesaDispatchError {
  override name = 'ForbiddenError'

  constructor(
    /** The key that authenticated. */
    readonly keyName: string,
    /** The scope the route needs, e.g. `backlog:clear`. */
    readonly scope: string,
  ) {
    super(`key ${JSON.stringify(keyName)} lacks the scope ${scope}`)
  }
}

/**
 * A request over its key's rate limit, refused by Redis in the call that would have done the work: nothing was
 * applied. `retryAfterSeconds` says when the key's window lets it in, or is undefined when no window ever will (a
 * batch larger than the whole limit).
 */
export class RateLimitedError extends MesaDispatchError {
  override name = 'RateLimitedError'

  constructor(
    /** The key whose budget ran out. */
    readonly keyName: string,
    /** Seconds until the next window starts; undefined when the request is larger than a whole window's budget. */
    readonly retryAfterSeconds: number | undefined,
    message: string,
  ) {
    super(message)
  }
}

/** A request over a size limit, refused before anything was sent: a body over MAX_BODY_BYTES, or a dispatch over MAX_REQUEST_BYTES. */
export class PayloadTooLargeError extends MesaDispatchError {
  override name = 'PayloadTooLargeError'

  constructor(
    /** The limit in bytes. */
    readonly limit: number,
    message = `request body must be at most ${limit} bytes`,
  ) {
    super(message)
  }
}

/** The same idempotency key (an `id`, an `Idempotency-Key`) used for a different request in its window: nothing was applied. */
export class IdempotencyConflictError extends MesaDispatchError {
  override name = 'IdempotencyConflictError'

  constructor(
    /** The id that was reused. */
    readonly id: string,
  ) {
    super(`the id ${JSON.stringify(id)} was used for a different request within its dedupe window: nothing was applied; a new request needs a new id`)
  }
}

/**
 * A backlog read that cannot answer within its bounds: a stored value larger than `maxBacklogReadBytes`
 * (`MAX_BACKLOG_READ_BYTES`), or one message larger than a page (`MAX_BACKLOG_PAGE_BYTES`). Nothing was changed.
 */
export class BacklogTooLargeError extends MesaDispatchError {
  override name = 'BacklogTooLargeError'

  constructor(
    /** The setting whose bound was met: `MAX_BACKLOG_READ_BYTES` or `MAX_BACKLOG_PAGE_BYTES`. */
    readonly variable: string,
    /** That bound, in bytes. */
    readonly limit: number,
    /** The bytes that would have been needed. */
    readonly bytes: number,
    message: string,
  ) {
    super(message)
  }
}

/**
 * A backlog read that the backlog changed under: since the page whose `cursor` was sent, so that the next page
 * could repeat or skip messages (the messages before the cursor are no longer the backlog's first ones: Mesa
 * delivered it at a login, a clear removed it, the caps dropped its oldest), or between the ranges of one large
 * value, again and again. Read it again from the first page. Nothing was changed.
 */
export class BacklogChangedError extends MesaDispatchError {
  override name = 'BacklogChangedError'

  constructor(
    message: string,
    /** `cursor` when the cursor sent no longer fits the backlog. */
    readonly field?: string,
  ) {
    super(message)
  }
}

/**
 * A dispatch too large for one script call was applied in parts, and Redis failed after some of them: `applied`
 * says what this call did, `remaining` who it did not reach, or, when the last part's outcome is unknown, may not
 * have. With an id, sending the dispatch again with it finishes it, reaching no one twice.
 */
export class IncompleteDispatchError extends MesaDispatchError {
  override name = 'IncompleteDispatchError'
  /** The dispatch's id, which finishes it; none when it had none. */
  readonly id?: string

  constructor(
    /** What the parts applied before the failure did. */
    readonly applied: DispatchResult,
    /** The recipients no part reached: or, when the failure's outcome is unknown, may not have reached. */
    readonly remaining: Recipient[],
    options: { cause: unknown; id?: string; reached?: number },
  ) {
    const advice =
      options.id === undefined
        ? 'it had no id, so sending it again would reach the others twice: give a dispatch an id to finish it safely'
        : `send it again with the id ${JSON.stringify(options.id)} to finish it: no recipient gets it twice`
    const reached = options.reached ?? applied.recipients.length + applied.offline.length
    super(`${progressOf(reached, remaining, options.cause)}; ${advice}`, { cause: options.cause, outcome: 'partial' })
    if (options.id !== undefined) this.id = options.id
    this.reached = reached
  }

  /** How many of the dispatch's recipients its parts reached, this call's and those of earlier calls with its id. */
  readonly reached: number

  /** What was reached, and what was not or, after a timeout, may not have been: the message without its advice. */
  get progress(): string {
    return progressOf(this.reached, this.remaining, this.cause)
  }
}

function progressOf(reached: number, remaining: Recipient[], cause: unknown): string {
  const lastUnknown = cause instanceof MesaDispatchError && cause.outcome === 'unknown'
  return `Redis failed after part of the dispatch was applied: ${reached} recipients were reached, ${remaining.length} ${lastUnknown ? 'may not have been' : 'were not'}`
}

/**
 * A Lambda function was handed an event of a shape it does not take (an EventBridge event to the sqs function, an
 * SQS record without its `eventSourceARN`), e.g. by `serverless invoke local -p` with another function's sample.
 */
export class UnexpectedEventError extends MesaDispatchError {
  override name = 'UnexpectedEventError'
}

/** What a `DispatchEndpointError` knows besides its message. */
export interface EndpointFailure {
  /** The HTTP status, or 0 when no answer came (network error or timeout). */
  status: number
  /** The endpoint's own error name, e.g. `ValidationError` or `AuthenticationError`, when it sent one. */
  errorName?: string
  /** The request field at fault, when the endpoint named one (on 400). */
  field?: string
  /** Seconds to wait before retrying, from the `Retry-After` header (sent with 503 and 429). */
  retryAfter?: number
  /** Whether anything was applied, across every attempt. @default 'none' */
  outcome?: FailureOutcome
  /** How many requests the call made, retries included. @default 1 */
  attempts?: number
  /** The `Idempotency-Key` every attempt carried: sending the call again with it finishes it. */
  idempotencyKey?: string
}

/**
 * The dispatch endpoint refused a request or could not be reached, as `createDispatchClient` reports it: any
 * non-2xx answer, an answer that is not the expected JSON, or no answer at all (`status` 0).
 */
export class DispatchEndpointError extends MesaDispatchError {
  override name = 'DispatchEndpointError'
  /** The HTTP status, or 0 when no answer came (network error or timeout). */
  readonly status: number
  /** The endpoint's own error name, e.g. `ValidationError`, when it sent one. */
  readonly errorName?: string
  /** The request field at fault, when the endpoint named one. */
  readonly field?: string
  /** Seconds to wait before retrying, when the endpoint said so with `Retry-After`. */
  readonly retryAfter?: number
  /** How many requests the call made, retries included. */
  readonly attempts: number
  /** The `Idempotency-Key` every attempt carried, when the call had one: the same key finishes it later. */
  readonly idempotencyKey?: string

  constructor(message: string, failure: EndpointFailure, options?: { cause?: unknown }) {
    super(message, { ...options, outcome: failure.outcome ?? 'none' })
    this.status = failure.status
    this.errorName = failure.errorName
    this.field = failure.field
    this.retryAfter = failure.retryAfter
    this.attempts = failure.attempts ?? 1
    this.idempotencyKey = failure.idempotencyKey
  }
}
