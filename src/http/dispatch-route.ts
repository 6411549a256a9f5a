import type { QuestionDispatcher } from '../core/dispatcher.js'
import { type RequestParser, toDispatchInput } from '../core/request.js'
import type { DispatchResult } from '../core/types.js'
import { IncompleteDispatchError, RedisError } from '../errors.js'
import { type DispatchMetrics, outcomeOf } from '../observe/dispatch-metrics.js'
import { describeError } from '../observe/error-fields.js'
import type { Logger } from '../observe/logger.js'
import type { RetryBasis } from './answers.js'
import { decodeJson } from './body.js'
import { defaultId, optionsFor } from './default-id.js'
import { acceptRequest, type IntakeOptions, type RequestScope } from './intake.js'

/** What `POST /dispatch` did: one result, or one settled outcome per batch item in order, and what makes each safe to retry. */
export type DispatchOutcome =
  | { batch: false; result: DispatchResult }
  | { batch: true; outcomes: PromiseSettledResult<DispatchResult>[]; retry: RetryBasis[]; idempotencyKey?: string }

/** The pieces the dispatch route is built from. */
export interface DispatchRouteOptions {
  dispatcher: QuestionDispatcher
  intake: IntakeOptions
  parser: RequestParser
  logger: Logger
  /** Told about each dispatch, and about each request refused as a whole (never throws). */
  metrics: DispatchMetrics
}

/**
 * `POST /dispatch`: the request taken in (credentials, scope `dispatch`, size, signature), then JSON and the
 * schema. Every item of a batch is validated before any is sent, and then all of them go in one script call, which
 * also counts the request against its key's rate limit (a batch as its number of dispatches).
 */
export function createDispatchRoute(options: DispatchRouteOptions) {
  const { dispatcher, intake, parser, logger, metrics } = options
  /** Everything before a dispatch is sent: a failure here refuses the request as a whole. */
  const accept = async (request: Request, scope: RequestScope) => {
    const accepted = await acceptRequest(intake, request, 'dispatch', scope)
    const parsed = parser.parseBody(decodeJson(accepted.body))
    const fallback = defaultId(accepted)
    const items = parsed.requests.map((each, index) => toDispatchInput(each, optionsFor(fallback, parsed.batch ? index : undefined)))
    // A body id is the caller's own, as an Idempotency-Key is; a signature stands for one only while it is sent unchanged.
    const retry = parsed.requests.map((each): RetryBasis => (each.id !== undefined ? 'id' : fallback.basis))
    // A made-up id is the whole request's: resent with it as its Idempotency-Key, each item gets its id back.
    if (fallback.basis === 'generated') scope.idempotencyKey = fallback.base
    if (!parsed.batch) scope.retry = retry[0]
    return { batch: parsed.batch, items, rateLimit: accepted.rateLimit, retry }
  }
  return async (request: Request, scope: RequestScope): Promise<DispatchOutcome> => {
    const started = Date.now()
    const parsed = await accept(request, scope).catch((error: unknown) => {
      metrics.failed(error, scope.keyName)
      throw error
    })
    const { items, rateLimit } = parsed
    const key = scope.keyName
    const sent = Date.now()
    // A batch is validated whole before any item is sent, a bad item named as the body names it: dispatches[i].
    const outcomes = await (parsed.batch
      ? dispatcher.dispatchMany(items, { rateLimit })
      : Promise.allSettled(
          items.map(({ event, recipients, excluding, options }) => dispatcher.dispatch(event, recipients, excluding, { ...options, rateLimit })),
        )
    ).catch((error: unknown) => {
      metrics.failed(error, key)
      throw error
    })
    // The items of a request share their script calls, so one round trip stands for all of them.
    if (outcomes.some(reachedRedis)) metrics.redisTime(Date.now() - sent)
    for (const outcome of outcomes) {
      if (outcome.status === 'fulfilled') metrics.dispatched(outcome.value, key)
      else metrics.failed(outcome.reason, key)
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
      requestId: scope.requestId,
      key,
      result: verdict,
      batch: parsed.batch,
      dispatches: outcomes.length,
      failed,
      ...errors,
      ...(redisFailure?.status === 'rejected' ? describeError(redisFailure.reason) : {}),
      durationMs: Date.now() - started,
    })
    if (parsed.batch)
      return { batch: true, outcomes, retry: parsed.retry, ...(scope.idempotencyKey === undefined ? {} : { idempotencyKey: scope.idempotencyKey }) }
    const [outcome] = outcomes as [PromiseSettledResult<DispatchResult>]
    if (outcome.status === 'rejected') throw outcome.reason
    return { batch: false, result: outcome.value }
  }
}

/** Whether a dispatch got as far as Redis: applied, or failed there (not refused before sending). */
function reachedRedis(outcome: PromiseSettledResult<DispatchResult>): boolean {
  return outcome.status === 'fulfilled' || outcome.reason instanceof RedisError || outcome.reason instanceof IncompleteDispatchError
}
