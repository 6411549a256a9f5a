import { type Env, readDispatcherEnv } from '../config.js'
import { DispatchCore } from '../core/dispatcher.js'
import { createRequestParser, parseJson, type RequestParser, toDispatchInput } from '../core/request.js'
import type { DispatchResult } from '../core/types.js'
import { IncompleteDispatchError, RedisError, ValidationError } from '../errors.js'
import { type DispatchMetrics, guardMetrics, outcomeOf } from '../observe/dispatch-metrics.js'
import { describeError } from '../observe/error-fields.js'
import { createLogger, type Logger } from '../observe/logger.js'
import { readAtStart } from './read-at-start.js'

/** Where a triggered dispatch came from, for its log line and its default id. */
export interface TriggerSource {
  /** The source's own stable id for the event (an SQS messageId, an EventBridge id), used when the request has none. */
  defaultId?: string
  /** The platform's request id, for the log line. */
  requestId?: string
}

/** Dispatches from event sources that hand over one request at a time: SQS records, EventBridge, schedules. */
export interface Trigger {
  readonly dispatcher: DispatchCore
  /**
   * Validates one dispatch request (a JSON value, or JSON text) and sends it, logging one structured line.
   * A redelivery of the same event is applied once, through its `defaultId`.
   */
  dispatch(payload: unknown, source?: TriggerSource): Promise<DispatchResult>
}

/** What an entry point adds to the env when it builds a Trigger. */
export interface TriggerFromEnvOptions {
  logger?: Logger
  /** The end of the current invocation, which every Redis attempt must finish before. */
  deadline?: () => number | undefined
  /** Told about every dispatch: its result or its error, and how long Redis took. @default none */
  metrics?: DispatchMetrics
}

/**
 * Builds the Trigger from an env object; wrong settings throw one ConfigError naming every variable, with no stack.
 * It dispatches and asks nothing, so it builds the Dispatcher's dispatching half alone.
 */
export function createTriggerFromEnv(env: Env, options: TriggerFromEnvOptions = {}): Trigger {
  const { connection, config } = readAtStart(() => readDispatcherEnv(env))
  const dispatcher = new DispatchCore(options.deadline ? { ...connection, deadline: options.deadline } : connection, config)
  return createTrigger(dispatcher, createRequestParser(), options.logger, options.metrics)
}

/** Builds a Trigger around an existing Dispatcher and parser. */
export function createTrigger(dispatcher: DispatchCore, parser: RequestParser, logger: Logger = createLogger(), metrics?: DispatchMetrics): Trigger {
  const observed = guardMetrics(metrics)
  return {
    dispatcher,
    async dispatch(payload, source = {}) {
      const started = Date.now()
      let sent: number | undefined
      try {
        const request = parser.parseOne(typeof payload === 'string' ? parseJson(payload) : payload)
        const { event, recipients, excluding, options } = toDispatchInput(request, source.defaultId === undefined ? {} : { id: source.defaultId })
        sent = Date.now()
        const result = await dispatcher.dispatch(event, recipients, excluding, options)
        observed.redisTime(Date.now() - sent)
        observed.dispatched(result)
        logger.info('dispatch', {
          requestId: source.requestId,
          result: result.duplicate ? 'duplicate' : 'sent',
          recipients: result.recipients.length,
          offline: result.offline.length,
          stored: result.stored,
          servers: result.servers,
          durationMs: Date.now() - started,
        })
        return result
      } catch (error) {
        // Only a dispatch that reached Redis has a round trip to report; one refused before sending has none.
        if (sent !== undefined && (error instanceof RedisError || error instanceof IncompleteDispatchError)) observed.redisTime(Date.now() - sent)
        observed.failed(error)
        // An invalid request is named by its field; its message and causes may quote the payload, so they stay out.
        // The result is the one the metrics count (refused, the sender's to fix, or failed); the outcome says whether
        // anything was applied.
        if (error instanceof ValidationError) {
          logger.warn('dispatch', {
            requestId: source.requestId,
            result: outcomeOf(error),
            error: error.name,
            field: error.field,
            outcome: error.outcome,
            durationMs: Date.now() - started,
          })
        } else {
          logger.error('dispatch', { requestId: source.requestId, result: outcomeOf(error), ...describeError(error), durationMs: Date.now() - started })
        }
        throw error
      }
    },
  }
}
