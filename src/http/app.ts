import type { Env } from '../config.js'
import { QuestionDispatcher } from '../core/dispatcher.js'
import { createRequestParser } from '../core/request.js'
import { ConfigError } from '../errors.js'
import { DEFAULT_MAX_BODY_BYTES } from '../limits.js'
import { type DispatchMetrics, guardMetrics } from '../observe/dispatch-metrics.js'
import { describeError } from '../observe/error-fields.js'
import { createLogger, type Logger } from '../observe/logger.js'
import { errorBody, json, retryHeaders, statusOf } from './answers.js'
import { type ApiKey, parseApiKeys } from './api-keys.js'
import { type AuthSecrets, keyOfSecrets, readAppEnv } from './app-env.js'
import { createAuthenticator } from './auth.js'
import { createDispatchRoute, type DispatchOutcome } from './dispatch-route.js'
import type { RequestScope } from './intake.js'
import { createQuestionRoutes } from './question-routes.js'

/** Everything the HTTP app needs; `createAppFromEnv` builds it from env variables. */
export interface AppOptions {
  dispatcher: QuestionDispatcher
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
          : json(503, { ok: false, error: { name: 'ConfigError', message: `no credentials are configured: ${NO_CREDENTIALS}`, outcome: 'none' } }),
    },
  }

  return {
    async fetch(request, context = {}) {
      const scope: RequestScope = { requestId: context.requestId ?? crypto.randomUUID() }
      const route = routes[new URL(request.url).pathname]
      if (!route) return json(404, { ok: false, error: { name: 'NotFound', message: 'no such route', outcome: 'none' } })
      // HEAD is GET without a body, for load balancers and uptime checks.
      const handler = route[request.method] ?? (request.method === 'HEAD' ? withoutBody(route.GET) : undefined)
      if (!handler) {
        const allowed = Object.keys(route).join(', ')
        return json(405, { ok: false, error: { name: 'MethodNotAllowed', message: `use ${allowed}`, outcome: 'none' } }, { allow: allowed })
      }
      try {
        return await handler(request, scope)
      } catch (error) {
        const status = statusOf(error)
        const { requestId, keyName: key } = scope
        const body = errorBody(error, scope)
        if (status >= 500) logger.error('request failed', { requestId, key, status, ...describeError(error), outcome: body.outcome })
        else logger.info('request refused', { requestId, key, status, error: (error as Error).name })
        return json(status, { ok: false, error: body }, retryHeaders(status, error))
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
      dispatcher: new QuestionDispatcher(connection, settings.config),
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
        return json(503, { ok: false, error: { name: 'ConfigError', message: 'the dispatch endpoint is misconfigured', outcome: 'none' } })
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
  const results = outcome.outcomes.map((each, index) =>
    each.status === 'fulfilled'
      ? { ok: true, result: each.value }
      : {
          ok: false,
          error: errorBody(each.reason, {
            retry: outcome.retry[index],
            ...(outcome.idempotencyKey === undefined ? {} : { idempotencyKey: outcome.idempotencyKey }),
          }),
        },
  )
  const failures = outcome.outcomes.flatMap((each) => (each.status === 'rejected' ? [statusOf(each.reason)] : []))
  if (failures.length === 0) return json(200, { ok: true, results })
  if (failures.length < results.length) return json(207, { ok: false, results })
  const status = Math.max(...failures)
  const reason = outcome.outcomes.find((each) => each.status === 'rejected' && statusOf(each.reason) === status)
  return json(status, { ok: false, results }, retryHeaders(status, reason?.status === 'rejected' ? reason.reason : undefined))
}
