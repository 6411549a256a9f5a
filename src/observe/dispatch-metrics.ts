import { type Env, readMetricsEnv } from '../config.js'
import type { DispatchResult } from '../core/types.js'
import {
  AuthenticationError,
  ConfigError,
  ForbiddenError,
  IdempotencyConflictError,
  MesaDispatchError,
  PayloadTooLargeError,
  RateLimitedError,
  ValidationError,
} from '../errors.js'
import { DEFAULT_METRICS_NAMESPACE } from '../limits.js'
import { createEmfWriter, type DimensionValues, type MetricSpec } from './emf.js'
import { describeError } from './error-fields.js'
import { createLogger, type LogSink } from './logger.js'

/** What the HTTP app and the triggers report about their dispatches. */
export interface DispatchMetrics {
  /** One dispatch that Redis applied, or answered as a duplicate; `key` names the API key that sent it, if any. */
  dispatched(result: DispatchResult, key?: string): void
  /** One dispatch, or one request refused as a whole, that failed with this error; `key` as for `dispatched`. */
  failed(error: unknown, key?: string): void
  /** How long one call to Redis took as the function saw it, in milliseconds. */
  redisTime(ms: number): void
}

/** How a dispatch ended, the `Outcome` dimension: `refused` is the sender's fault (4xx), `failed` the server's. */
export type Outcome = 'sent' | 'duplicate' | 'refused' | 'failed'

/** The metrics, by name. Every one is in the README's table; none carries an id, so their number stays small. */
export const METRICS = {
  Dispatches: { name: 'Dispatches', unit: 'Count' },
  Recipients: { name: 'Recipients', unit: 'Count' },
  Online: { name: 'Online', unit: 'Count' },
  Offline: { name: 'Offline', unit: 'Count' },
  Stored: { name: 'Stored', unit: 'Count' },
  Unstored: { name: 'Unstored', unit: 'Count' },
  Dropped: { name: 'Dropped', unit: 'Count' },
  UnheardPublishes: { name: 'UnheardPublishes', unit: 'Count' },
  RedisRoundTripTime: { name: 'RedisRoundTripTime', unit: 'Milliseconds', samples: true },
  SqsRecords: { name: 'SqsRecords', unit: 'Count' },
  SqsRecordsFailed: { name: 'SqsRecordsFailed', unit: 'Count' },
  BacklogsRemoved: { name: 'BacklogsRemoved', unit: 'Count' },
  BacklogBytesRemoved: { name: 'BacklogBytesRemoved', unit: 'Bytes' },
  BacklogEntriesForgotten: { name: 'BacklogEntriesForgotten', unit: 'Count' },
  CleanupIncomplete: { name: 'CleanupIncomplete', unit: 'Count' },
} as const satisfies Record<string, MetricSpec>

/** The per-invocation counts a function reports beside its dispatches, under the Function dimension alone. */
export type InvocationCount = 'SqsRecords' | 'SqsRecordsFailed' | 'BacklogsRemoved' | 'BacklogBytesRemoved' | 'BacklogEntriesForgotten' | 'CleanupIncomplete'

/** A Lambda function's metrics: collected during one invocation, written once at its end. */
export interface InvocationMetrics extends DispatchMetrics {
  /** Adds to one of the invocation's own counts. */
  count(name: InvocationCount, value: number): void
  /** Runs one invocation's work, then writes its metrics under `Function: functionName`, whatever the work did. */
  observe<T>(functionName: string, work: () => Promise<T>): Promise<T>
}

/** How the EMF metrics are written. */
export interface EmfMetricsOptions {
  /** @default DEFAULT_METRICS_NAMESPACE ('MesaDispatch') */
  namespace?: string
  /** When false, nothing is recorded or written. @default true */
  enabled?: boolean
  /** Where lines go; Lambda sends stdout to CloudWatch Logs, which extracts the metrics. @default console.log */
  sink?: LogSink
}

const CLIENT_ERRORS = [ValidationError, AuthenticationError, ForbiddenError, IdempotencyConflictError, PayloadTooLargeError, RateLimitedError]

/** The outcome of a failed dispatch: refused when the sender can fix it, failed otherwise. */
export function outcomeOf(error: unknown): Outcome {
  return CLIENT_ERRORS.some((type) => error instanceof type) ? 'refused' : 'failed'
}

/** The `ErrorName` dimension: this package's error names, a bounded set; anything else is `InternalError`. */
export function errorNameOf(error: unknown): string {
  return error instanceof MesaDispatchError ? error.name : 'InternalError'
}

/**
 * Creates the Lambda functions' metrics, written in CloudWatch Embedded Metric Format: one line per invocation
 * (one more per further outcome in a batch), never one per dispatch. Recording and writing never throw, so a
 * metrics problem can cost a data point but never a dispatch.
 */
export function createEmfMetrics(options: EmfMetricsOptions = {}): InvocationMetrics {
  const { namespace = DEFAULT_METRICS_NAMESPACE, enabled = true, sink = (line) => console.log(line) } = options
  const writer = createEmfWriter(namespace, sink)
  const add = (metric: MetricSpec, value: number, dimensions?: DimensionValues) => quietly(() => enabled && writer.add(metric, value, dimensions))
  return {
    dispatched: (result, key) =>
      quietly(() => {
        const dimensions: DimensionValues = withKey([['Outcome', result.duplicate ? 'duplicate' : 'sent']], key)
        add(METRICS.Dispatches, 1, dimensions)
        if (result.duplicate) return
        // The recipients the dispatch addressed: those published to ('*' among them) and the offline ones left out.
        add(METRICS.Recipients, result.recipients.length + result.offline.length, dimensions)
        if (result.online !== null) add(METRICS.Online, result.online.length, dimensions)
        add(METRICS.Offline, result.offline.length, dimensions)
        add(METRICS.Stored, result.stored, dimensions)
        add(METRICS.Unstored, result.unstored.length, dimensions)
        add(METRICS.Dropped, result.dropped, dimensions)
        // Published, yet no Mesa server was subscribed to hear it: the online recipients missed it.
        add(METRICS.UnheardPublishes, result.recipients.length > 0 && result.servers === 0 ? 1 : 0, dimensions)
      }),
    failed: (error, key) =>
      add(
        METRICS.Dispatches,
        1,
        withKey(
          [
            ['Outcome', outcomeOf(error)],
            ['ErrorName', errorNameOf(error)],
          ],
          key,
        ),
      ),
    redisTime: (ms) => add(METRICS.RedisRoundTripTime, ms),
    count: (name, value) => add(METRICS[name], value),
    async observe(functionName, work) {
      try {
        return await work()
      } finally {
        quietly(() => enabled && writer.flush([['Function', functionName || 'unknown']]))
      }
    },
  }
}

/**
 * The metrics the env asks for: `MESA_METRICS` (default on) and `MESA_METRICS_NAMESPACE`. A bad value logs the
 * variable and turns metrics off instead of failing the function: dispatching matters more than counting.
 */
export function createMetricsFromEnv(env: Env, sink?: LogSink): InvocationMetrics {
  try {
    return createEmfMetrics({ ...readMetricsEnv(env), ...(sink ? { sink } : {}) })
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    createLogger({}, sink).error('metrics are off: a setting is invalid', { variable: error.variable, ...describeError(error) })
    return createEmfMetrics({ enabled: false })
  }
}

/**
 * Adds the `Key` dimension last, so that every existing roll-up (by Outcome, by ErrorName) stays as it was and one more
 * is made per key. Its values are the names of configured keys alone, which authenticated a request: a caller cannot
 * grow the number of metrics.
 */
function withKey(dimensions: DimensionValues, key: string | undefined): DimensionValues {
  return key === undefined ? dimensions : [...dimensions, ['Key', key]]
}

/** Metrics that do nothing, for callers given none. */
export const noMetrics: DispatchMetrics = { dispatched() {}, failed() {}, redisTime() {} }

/** Wraps metrics of any origin so that none of their methods can throw into a dispatch. */
export function guardMetrics(metrics: DispatchMetrics | undefined): DispatchMetrics {
  if (!metrics) return noMetrics
  return {
    dispatched: (result, key) => quietly(() => metrics.dispatched(result, key)),
    failed: (error, key) => quietly(() => metrics.failed(error, key)),
    redisTime: (ms) => quietly(() => metrics.redisTime(ms)),
  }
}

function quietly(work: () => unknown): void {
  try {
    work()
  } catch {
    // A metric lost is better than a dispatch failed: nothing here may throw into the caller.
  }
}
