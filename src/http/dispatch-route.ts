import type { Dispatcher } from '../core/dispatcher.js'
import { type RequestParser, toDispatchInput } from '../core/request.js'
import type { DispatchOptions, DispatchResult } from '../core/types.js'
import { IncompleteDispatchError, RedisError, ValidationError } from '../errors.js'
import { MAX_IDEMPOTENCY_KEY_LENGTH, SIGNATURE_REPLAY_TTL_SECONDS } from '../limits.js'
import { type DispatchMetrics, outcomeOf } from '../observe/dispatch-metrics.js'
import { describeError } from '../observe/error-fields.js'
import type { Logger } from '../observe/logger.js'
import type { Authenticator, Verified } from './auth.js'
import { decodeJson, readBody } from './body.js'

/** What `POST /dispatch` did: one result, or one settled outcome per batch item in order. */
export type DispatchOutcome = { batch: false; result: DispatchResult } | { batch: true; outcomes: PromiseSettledResult<DispatchResult>[] }

/** The pieces the dispatch route is built from. */
export interface DispatchRouteOptions {
  dispatcher: Dispatcher
  authenticator: Authenticator
  parser: RequestParser
  maxBodyBytes: number
  logger: Logger
  /** Told about each dispatch, and about each request refused as a whole (never throws). */
  metrics: DispatchMetrics
}

/**
 * `POST /dispatch`, in the order that keeps work off unauthenticated and oversized requests: credentials from
 * the headers, the size limit while reading, the signature over the raw bytes, then JSON and the schema. Every
 * item of a batch is validated before any is sent, and then all of them go in one script call.
 */
export function createDispatchRoute(options: DispatchRouteOptions) {
  const { dispatcher, authenticator, parser, maxBodyBytes, logger, metrics } = options
  /** Everything before a dispatch is sent: a failure here refuses the request as a whole. */
  const accept = async (request: Request) => {
    const credential = await authenticator.precheck(request.headers)
    const body = await readBody(request, maxBodyBytes)
    const verified = await authenticator.verify(credential, body)
    const parsed = parser.parseBody(decodeJson(body))
    const fallback = defaultId(idempotencyKey(request.headers), verified)
    const items = parsed.requests.map((each, index) => toDispatchInput(each, optionsFor(fallback, parsed.batch ? index : undefined)))
    return { batch: parsed.batch, items }
  }
  return async (request: Request, requestId: string): Promise<DispatchOutcome> => {
    const started = Date.now()
    const parsed = await accept(request).catch((error: unknown) => {
      metrics.failed(error)
      throw error
    })
    const { items } = parsed
    const sent = Date.now()
    // A batch is validated whole before any item is sent, a bad item named as the body names it: dispatches[i].
    const outcomes = await (parsed.batch
      ? dispatcher.dispatchMany(items)
      : Promise.allSettled(items.map(({ event, recipients, excluding, options }) => dispatcher.dispatch(event, recipients, excluding, options)))
    ).catch((error: unknown) => {
      metrics.failed(error)
      throw error
    })
    // The items of a request share their script calls, so one round trip stands for all of them.
    if (outcomes.some(reachedRedis)) metrics.redisTime(Date.now() - sent)
    for (const outcome of outcomes) {
      if (outcome.status === 'fulfilled') metrics.dispatched(outcome.value)
      else metrics.failed(outcome.reason)
    }
    const rejected = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason] : []))
    const reasons = rejected.map((reason) => (reason as Error).name)
    const failed = reasons.length
    // As the metrics count them: refused when every failure was the sender's to fix (a 4xx), failed otherwise.
    const verdict =
      failed === 0 ? 'sent' : failed < outcomes.length ? 'partial' : rejected.every((reason) => outcomeOf(reason) === 'refused') ? 'refused' : 'failed'
    // The failures' names only: a batch answers with their statuses, and their details are not for the client either.
    const errors = failed === 0 ? {} : { errors: [...new Set(reasons)].join(',') }
    // A batch answers without throwing, so this line alone says why Redis failed it: the first such failure, with
    // its causes. A single dispatch's failure is thrown, and app.ts logs it so. Invalid items are named in the answer.
    const redisFailure = parsed.batch ? outcomes.find((outcome) => outcome.status === 'rejected' && reachedRedis(outcome)) : undefined
    logger[redisFailure ? 'error' : 'info']('dispatch', {
      requestId,
      outcome: verdict,
      batch: parsed.batch,
      dispatches: outcomes.length,
      failed,
      ...errors,
      ...(redisFailure?.status === 'rejected' ? describeError(redisFailure.reason) : {}),
      durationMs: Date.now() - started,
    })
    if (parsed.batch) return { batch: true, outcomes }
    const [outcome] = outcomes as [PromiseSettledResult<DispatchResult>]
    if (outcome.status === 'rejected') throw outcome.reason
    return { batch: false, result: outcome.value }
  }
}

/** The id an item without its own gets, suffixed with its index in a batch, and how long it must be remembered. */
export interface DefaultId {
  base: string
  ttlSeconds?: number
}

/**
 * The `Idempotency-Key` header, else, for a signed request, its signature: a replay of it inside the signature
 * window then answers as a duplicate, and its id needs remembering only as long as the window lasts.
 */
export function defaultId(key: string | undefined, verified: Verified): DefaultId | undefined {
  if (key !== undefined) return { base: key }
  return verified && { base: `sig:${verified.signature}`, ttlSeconds: SIGNATURE_REPLAY_TTL_SECONDS }
}

/** The options of an item without its own id: the default id, suffixed with the item's index in a batch. */
function optionsFor(fallback: DefaultId | undefined, index: number | undefined): DispatchOptions {
  if (fallback === undefined) return {}
  return { id: index === undefined ? fallback.base : `${fallback.base}:${index}`, ttlSeconds: fallback.ttlSeconds }
}

/** The `Idempotency-Key` header, checked whether or not a body id overrides it: a batch item's id is `<key>:<index>`. */
export function idempotencyKey(headers: Headers): string | undefined {
  const key = headers.get('idempotency-key')
  if (key !== null && (key === '' || key.length > MAX_IDEMPOTENCY_KEY_LENGTH)) {
    throw new ValidationError('Idempotency-Key', `must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`)
  }
  return key ?? undefined
}

/** Whether a dispatch got as far as Redis: applied, or failed there (not refused before sending). */
function reachedRedis(outcome: PromiseSettledResult<DispatchResult>): boolean {
  return outcome.status === 'fulfilled' || outcome.reason instanceof RedisError || outcome.reason instanceof IncompleteDispatchError
}
