import type { Env } from '../config.js'
import { Dispatcher } from '../core/dispatcher.js'
import { createRequestParser } from '../core/request.js'
import {
  AuthenticationError,
  ConfigError,
  ForbiddenError,
  IncompleteDispatchError,
  MesaDispatchError,
  PayloadTooLargeError,
  RateLimitedError,
  RedisCommandError,
  RedisUnavailableError,
  ValidationError,
} from '../errors.js'
import { DEFAULT_MAX_BODY_BYTES, RETRY_AFTER_SECONDS } from '../limits.js'
import { type DispatchMetrics, guardMetrics } from '../observe/dispatch-metrics.js'
import { describeError } from '../observe/error-fields.js'
import { createLogger, type Logger } from '../observe/logger.js'
import { type ApiKey, parseApiKeys } from './api-keys.js'
import { type AuthSecrets, keyOfSecrets, readAppEnv } from './app-env.js'
import { createAuthenticator } from './auth.js'
import { createDispatchRoute, type DispatchOutcome } from './dispatch-route.js'
import type { RequestScope } from './intake.js'
import { createQuestionRoutes } from './question-routes.js'

/** Everything the HTTP app needs; `createAppFromEnv` builds it from env variables. */
export interface AppOptions {
  dispatcher: Dispatcher
  /** The named keys requests authenticate with, each with its scopes and rate limit. @default none */
  keys?: ApiKey[]
  /** A single credential, taken as a key named `default` with every scope, beside `keys`. @default none */
  auth?: AuthSecrets
  /** Bodies over this many bytes get 413 before parsing. @default DEFAULT_MAX_BODY_BYTES (1 MiB) */
  maxBodyBytes?: number
  /** The most dispatches in one batch request, at most MAX_BATCH_LIMIT (1000). @default DEFAULT_MAX_BATCH (100) */
  maxBatch?: number
  /** @default a JSON-lines logger on console.log */
  logger?: Logger
  /** Told about every dispatch and every refused dispatch request; the Lambda function writes them as EMF. @default none */
  metrics?: DispatchMetrics
  /** The clock for signature windows, injectable for tests. @default Date.now */
  now?: () => number
}

/** Per-request facts an adapter knows and the app does not, e.g. the Lambda request id. */
export interface RequestContext {
  requestId?: string
}

/** The fetch-shaped HTTP app: the only HTTP implementation, wrapped by the Lambda and edge entry points. */
export interface App {
  fetch(request: Request, context?: RequestContext): Promise<Response>
}

/** The one place errors become statuses; the first matching class wins, anything else is a 500. */
const STATUSES: ReadonlyArray<readonly [new (...args: never[]) => Error, number]> = [
  [ValidationError, 400],
  [AuthenticationError, 401],
  [ForbiddenError, 403],
  [PayloadTooLargeError, 413],
  [RateLimitedError, 429],
  [RedisCommandError, 502],
  [RedisUnavailableError, 503],
  [ConfigError, 503],
]

/** What a client may learn about a server-side failure; the detail goes to the log instead. */
const SERVER_SIDE_MESSAGES: Record<number, string> = {
  500: 'internal error',
  502: 'Redis refused the request; nothing was applied',
  503: 'the dispatch endpoint cannot reach Redis right now; retry later',
}

/** What to set when no secret is: said in the log at start and by `/health`. */
const NO_CREDENTIALS = 'set DISPATCH_KEYS, DISPATCH_TOKEN or DISPATCH_SIGNING_SECRET (16+ characters)'

type Route = (request: Request, scope: RequestScope) => Promise<Response>

/**
 * Builds the app: `POST /dispatch` (one dispatch or `{ dispatches: [...] }`), the questions `POST /presence`,
 * `POST /backlog` and `POST /backlog/clear`, and `GET /health`.
 */
export function createApp(options: AppOptions): App {
  const logger = options.logger ?? createLogger()
  const keys = [...keyOfSecrets(options.auth ?? {}), ...(options.keys ?? [])]
  const authenticator = createAuthenticator(keys.length > 0 ? parseApiKeys(keys, 'keys') : [], options.now)
  const configured = authenticator.keyCount > 0
  if (!configured) logger.error(`refusing every dispatch: ${NO_CREDENTIALS}`)
  const intake = { authenticator, maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES }
  const metrics = guardMetrics(options.metrics)
  const dispatch = createDispatchRoute({ dispatcher: options.dispatcher, intake, parser: createRequestParser({ maxBatch: options.maxBatch }), logger, metrics })
  const questions = createQuestionRoutes({ dispatcher: options.dispatcher, intake, logger })
  const answer =
    <T>(handler: (request: Request, scope: RequestScope) => Promise<T>): Route =>
    async (request, scope) =>
      json(200, { ok: true, result: await handler(request, scope) })
  const routes: Record<string, Partial<Record<string, Route>>> = {
    '/dispatch': { POST: async (request, scope) => toResponse(await dispatch(request, scope)) },
    '/presence': { POST: answer(questions.presence) },
    '/backlog': { POST: answer(questions.backlog) },
    '/backlog/clear': { POST: answer(questions.clear) },
    // An endpoint that refuses every dispatch is not healthy, whatever Redis says. Keys are counted, never named.
    '/health': {
      GET: async () =>
        configured
          ? json(200, { ok: true, service: 'mesa-dispatch', keys: authenticator.keyCount })
          : json(503, { ok: false, error: { name: 'ConfigError', message: `no credentials are configured: ${NO_CREDENTIALS}` } }),
    },
  }

  return {
    async fetch(request, context = {}) {
      const scope: RequestScope = { requestId: context.requestId ?? crypto.randomUUID() }
      const route = routes[new URL(request.url).pathname]
      if (!route) return json(404, { ok: false, error: { name: 'NotFound', message: 'no such route' } })
      // HEAD is GET without a body, for load balancers and uptime checks.
      const handler = route[request.method] ?? (request.method === 'HEAD' ? withoutBody(route.GET) : undefined)
      if (!handler) {
        const allowed = Object.keys(route).join(', ')
        return json(405, { ok: false, error: { name: 'MethodNotAllowed', message: `use ${allowed}` } }, { allow: allowed })
      }
      try {
        return await handler(request, scope)
      } catch (error) {
        const status = statusOf(error)
        const { requestId, keyName: key } = scope
        if (status >= 500) logger.error('request failed', { requestId, key, status, ...describeError(error) })
        else logger.info('request refused', { requestId, key, status, error: (error as Error).name })
        return json(status, { ok: false, error: errorBody(error) }, retryHeaders(status, error))
      }
    },
  }
}

/** What an entry point adds to the env when it builds the app. */
export interface AppFromEnvOptions {
  /** @default a JSON-lines logger on console.log */
  logger?: Logger
  /** The end of the current invocation, which every Redis attempt must finish before (Lambda only). */
  deadline?: () => number | undefined
  /** Told about every dispatch; a misconfigured app reports each request as failed with a ConfigError. @default none */
  metrics?: DispatchMetrics
}

/**
 * Builds the app from an env object. A bad setting does not throw: the app then answers every request with
 * 503 and logs which variable to fix, so a deploy check fails loudly instead of the function crashing.
 */
export function createAppFromEnv(env: Env, options: AppFromEnvOptions = {}): App {
  const logger = options.logger ?? createLogger()
  try {
    const settings = readAppEnv(env)
    const connection = options.deadline ? { ...settings.connection, deadline: options.deadline } : settings.connection
    return createApp({
      dispatcher: new Dispatcher(connection, settings.config),
      keys: settings.keys,
      maxBodyBytes: settings.maxBodyBytes,
      maxBatch: settings.maxBatch,
      logger,
      ...(options.metrics ? { metrics: options.metrics } : {}),
    })
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    logger.error('the dispatch endpoint is misconfigured', { variable: error.variable, ...describeError(error) })
    const metrics = guardMetrics(options.metrics)
    return {
      fetch: async () => {
        metrics.failed(error)
        return json(503, { ok: false, error: { name: 'ConfigError', message: 'the dispatch endpoint is misconfigured' } })
      },
    }
  }
}

function withoutBody(route: Route | undefined): Route | undefined {
  return (
    route &&
    (async (request, scope) => {
      const response = await route(request, scope)
      return new Response(null, { status: response.status, headers: response.headers })
    })
  )
}

/**
 * A batch answers 200 when every item succeeded and 207 when some failed. When all failed it answers as a single
 * dispatch would, with the failures' status, the highest when they differ (so a retryable 503 wins), keeping
 * each item's result in the body.
 */
function toResponse(outcome: DispatchOutcome): Response {
  if (!outcome.batch) return json(200, { ok: true, result: outcome.result })
  const results = outcome.outcomes.map((each) =>
    each.status === 'fulfilled' ? { ok: true, result: each.value } : { ok: false, error: errorBody(each.reason) },
  )
  const failures = outcome.outcomes.flatMap((each) => (each.status === 'rejected' ? [statusOf(each.reason)] : []))
  if (failures.length === 0) return json(200, { ok: true, results })
  if (failures.length < results.length) return json(207, { ok: false, results })
  const status = Math.max(...failures)
  const reason = outcome.outcomes.find((each) => each.status === 'rejected' && statusOf(each.reason) === status)
  return json(status, { ok: false, results }, retryHeaders(status, reason?.status === 'rejected' ? reason.reason : undefined))
}

/** When to retry: a 503 after RETRY_AFTER_SECONDS, a 429 when its key's next window starts (never, for a request too large for any). */
function retryHeaders(status: number, error: unknown): Record<string, string> {
  if (status === 503) return { 'retry-after': String(RETRY_AFTER_SECONDS) }
  if (error instanceof RateLimitedError && error.retryAfterSeconds !== undefined) return { 'retry-after': String(error.retryAfterSeconds) }
  return {}
}

/** The HTTP status for an error thrown while handling a request. */
export function statusOf(error: unknown): number {
  // A dispatch applied in part failed the way its last part did: retrying is safe or not as for that error.
  if (error instanceof IncompleteDispatchError) return statusOf(error.cause)
  return STATUSES.find(([type]) => error instanceof type)?.[1] ?? 500
}

function errorBody(error: unknown): { name: string; message: string; field?: string } {
  const status = statusOf(error)
  const name = error instanceof MesaDispatchError ? error.name : 'InternalError'
  if (error instanceof IncompleteDispatchError) {
    const { applied, remaining } = error
    const reached = applied.recipients.length + applied.offline.length
    return {
      name,
      message: `Redis failed after part of the dispatch was applied: ${reached} recipients were reached, ${remaining.length} were not; send it again with the same id to finish it`,
    }
  }
  if (status >= 500) return { name, message: SERVER_SIDE_MESSAGES[status] ?? SERVER_SIDE_MESSAGES[500]! }
  if (error instanceof ValidationError) return { name, message: error.message, field: error.field }
  return { name, message: (error as Error).message }
}

/** A JSON response that no cache keeps; every answer of the app goes through here. */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
  })
}
