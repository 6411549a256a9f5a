import { isWriteBudgetEnough, WRITE_BUDGET_REASON } from './core/dispatcher-setup.js'
import { isNamespace, NAMESPACE_RULE } from './core/keys.js'
import type { DispatcherConfig } from './core/types.js'
import { ConfigError, type ConfigProblem } from './errors.js'
import { parseHttpUrl } from './http-url.js'
import {
  DEFAULT_DEDUPE_TTL_SECONDS,
  DEFAULT_MAX_BACKLOG_PAGE_BYTES,
  DEFAULT_MAX_BACKLOG_READ_BYTES,
  DEFAULT_MAX_RECIPIENTS,
  DEFAULT_MAX_REQUEST_BYTES,
  DEFAULT_MAX_WRITE_BYTES,
  DEFAULT_METRICS_NAMESPACE,
  DEFAULT_REDIS_RETRIES,
  DEFAULT_REDIS_TIMEOUT_MS,
  DEFAULT_SYNC_MAX_AGE_SECONDS,
  DEFAULT_SYNC_MAX_BYTES,
  DEFAULT_SYNC_MAX_MESSAGES,
  MAX_BACKLOG_PAGE_BYTES_LIMIT,
  MIN_BACKLOG_PAGE_BYTES,
  MIN_REQUEST_BYTES,
  MIN_SECRET_LENGTH,
} from './limits.js'
import { BEARER_TOKEN_RULE, isBearerToken, type RestConnection } from './transport/rest.js'

/**
 * An env object: `process.env` on Lambda, the bindings object at the edge. Values that are not strings
 * (a Cloudflare KV binding, say) are ignored.
 */
export type Env = Readonly<Record<string, unknown>>

/** What the env says about reaching Redis and behaving like the Mesa server it feeds. */
export interface DispatcherEnv {
  connection: RestConnection
  config: DispatcherConfig
}

/** Reads one setting, or a few that depend on each other, from an env object; a wrong one throws a ConfigError. */
export type SettingReader<T> = (env: Env) => T

/** What a record of readers reads: each key's value. */
export type SettingValues<R extends Record<string, SettingReader<unknown>>> = { [K in keyof R]: ReturnType<R[K]> }

/**
 * Runs every reader of a record, each whatever the others found, and returns their values by key. When any
 * throws a ConfigError, it throws one ConfigError naming every problem, not the first (combineConfigErrors): a
 * deploy check and a function at start then say everything there is to fix at once. A setting more is a line more.
 */
export function readSettings<R extends Record<string, SettingReader<unknown>>>(env: Env, readers: R): SettingValues<R> {
  const values: Record<string, unknown> = {}
  const problems: ConfigError[] = []
  for (const [key, read] of Object.entries(readers)) {
    try {
      values[key] = read(env)
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error
      problems.push(error)
    }
  }
  if (problems.length > 0) throw combineConfigErrors(problems)
  return values as SettingValues<R>
}

/**
 * One error for several, so that whoever fixes the settings sees all of them at once: the one itself when it is
 * alone, else a ConfigError naming every variable, whose message lists each problem (repeats dropped).
 */
export function combineConfigErrors(errors: readonly ConfigError[]): ConfigError {
  const problems = errors.flatMap((error) => error.problems).filter((each, index, all) => all.findIndex((other) => isSameProblem(other, each)) === index)
  if (errors.length === 1 || problems.length === 1) return errors[0]!
  const variables = [...new Set(problems.map((each) => each.variable))].join(', ')
  const message = `${problems.length} settings are wrong: ${problems.map((each) => `${each.variable} ${each.problem}`).join('; ')}`
  return new ConfigError(variables, '', { problems, message })
}

const isSameProblem = (a: ConfigProblem, b: ConfigProblem) => a.variable === b.variable && a.problem === b.problem

/** The Dispatcher's settings, each read on its own (src/limits.ts defines the defaults). */
const DISPATCHER_SETTINGS = {
  url: (env: Env) => requireHttpUrl(env, 'UPSTASH_REDIS_REST_URL'),
  token: (env: Env) => readBearerToken(env, 'UPSTASH_REDIS_REST_TOKEN'),
  timeoutMs: (env: Env) => readInteger(env, 'REDIS_TIMEOUT_MS', DEFAULT_REDIS_TIMEOUT_MS, 1),
  retries: (env: Env) => readInteger(env, 'REDIS_RETRIES', DEFAULT_REDIS_RETRIES, 0),
  keyLocking: (env: Env) => readBoolean(env, 'UPSTASH_SCRIPT_KEY_LOCKING', false),
  namespace: readNamespace,
  sync: (env: Env) => readBoolean(env, 'MESA_SYNC', false),
  maxMessages: (env: Env) => readInteger(env, 'MESA_SYNC_MAX_MESSAGES', DEFAULT_SYNC_MAX_MESSAGES, 0),
  writeBudget: readWriteBudget,
  maxAgeSeconds: (env: Env) => readInteger(env, 'MESA_SYNC_MAX_AGE_SECONDS', DEFAULT_SYNC_MAX_AGE_SECONDS, 0),
  dedupeTtlSeconds: (env: Env) => readInteger(env, 'DEDUPE_TTL_SECONDS', DEFAULT_DEDUPE_TTL_SECONDS, 1),
  maxRecipients: (env: Env) => readInteger(env, 'MAX_RECIPIENTS', DEFAULT_MAX_RECIPIENTS, 1),
  maxRequestBytes: (env: Env) => readInteger(env, 'MAX_REQUEST_BYTES', DEFAULT_MAX_REQUEST_BYTES, MIN_REQUEST_BYTES),
  maxBacklogPageBytes: (env: Env) =>
    readInteger(env, 'MAX_BACKLOG_PAGE_BYTES', DEFAULT_MAX_BACKLOG_PAGE_BYTES, MIN_BACKLOG_PAGE_BYTES, MAX_BACKLOG_PAGE_BYTES_LIMIT),
  maxBacklogReadBytes: (env: Env) => readInteger(env, 'MAX_BACKLOG_READ_BYTES', DEFAULT_MAX_BACKLOG_READ_BYTES, 1),
}

/**
 * Reads the Dispatcher's settings from an env object: `UPSTASH_REDIS_REST_URL` and `UPSTASH_REDIS_REST_TOKEN`
 * (required), `MESA_NAMESPACE` (default none), `MESA_SYNC` (default false), and the tuning variables
 * `MESA_SYNC_MAX_MESSAGES`, `MESA_SYNC_MAX_BYTES`, `MESA_SYNC_MAX_AGE_SECONDS`, `DEDUPE_TTL_SECONDS`,
 * `MAX_RECIPIENTS`, `MAX_WRITE_BYTES`, `MAX_REQUEST_BYTES`, `MAX_BACKLOG_PAGE_BYTES`, `MAX_BACKLOG_READ_BYTES`,
 * `REDIS_TIMEOUT_MS` and `REDIS_RETRIES`, whose defaults are in src/limits.ts, and `UPSTASH_SCRIPT_KEY_LOCKING`
 * (default false). Every wrong one is named in the one ConfigError it throws.
 */
export function readDispatcherEnv(env: Env): DispatcherEnv {
  const settings = readSettings(env, DISPATCHER_SETTINGS)
  const { maxBytes, maxWriteBytes } = settings.writeBudget
  return {
    connection: {
      url: settings.url,
      token: settings.token,
      timeoutMs: settings.timeoutMs,
      retries: settings.retries,
      ...(settings.keyLocking ? { keyLocking: true } : {}),
    },
    config: {
      ...(settings.namespace ? { namespace: settings.namespace } : {}),
      sync: { enabled: settings.sync, maxMessages: settings.maxMessages, maxBytes, maxAgeSeconds: settings.maxAgeSeconds },
      dedupeTtlSeconds: settings.dedupeTtlSeconds,
      maxRecipients: settings.maxRecipients,
      maxWriteBytes,
      maxRequestBytes: settings.maxRequestBytes,
      maxBacklogPageBytes: settings.maxBacklogPageBytes,
      maxBacklogReadBytes: settings.maxBacklogReadBytes,
    },
  }
}

/** `MESA_NAMESPACE`, checked here with the Dispatcher's own rule, so that the error names the variable. */
function readNamespace(env: Env): string | undefined {
  const namespace = readString(env, 'MESA_NAMESPACE')
  if (namespace !== undefined && !isNamespace(namespace)) throw new ConfigError('MESA_NAMESPACE', NAMESPACE_RULE)
  return namespace
}

/** `MESA_SYNC_MAX_BYTES` and `MAX_WRITE_BYTES`, which must fit together: one call must be able to write a full backlog. */
function readWriteBudget(env: Env): { maxBytes: number; maxWriteBytes: number } {
  const { maxBytes, maxWriteBytes } = readSettings(env, {
    maxBytes: (env: Env) => readInteger(env, 'MESA_SYNC_MAX_BYTES', DEFAULT_SYNC_MAX_BYTES, 0),
    maxWriteBytes: (env: Env) => readInteger(env, 'MAX_WRITE_BYTES', DEFAULT_MAX_WRITE_BYTES, 1),
  })
  if (!isWriteBudgetEnough(maxWriteBytes, maxBytes)) {
    // The variable that was set is the one to change: with MAX_WRITE_BYTES at its default, that is MESA_SYNC_MAX_BYTES.
    throw readString(env, 'MAX_WRITE_BYTES') === undefined
      ? new ConfigError('MESA_SYNC_MAX_BYTES', `must be at most MAX_WRITE_BYTES (${maxWriteBytes}), ${WRITE_BUDGET_REASON}`)
      : new ConfigError('MAX_WRITE_BYTES', `must be at least MESA_SYNC_MAX_BYTES (${maxBytes}), ${WRITE_BUDGET_REASON}`)
  }
  return { maxBytes, maxWriteBytes }
}

/** What the env says about the metrics the Lambda functions write (CloudWatch Embedded Metric Format). */
export interface MetricsEnv {
  /** @default true */
  enabled: boolean
  /** @default DEFAULT_METRICS_NAMESPACE ('MesaDispatch') */
  namespace: string
}

/**
 * Reads `MESA_METRICS` (default true, false under `serverless invoke local`) and `MESA_METRICS_NAMESPACE` (default `MesaDispatch`), which CloudWatch allows
 * 1 to 255 of `A-Z a-z 0-9 . - _ / # :` and spaces, not beginning with `AWS/`.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDatum.html
 */
export function readMetricsEnv(env: Env): MetricsEnv {
  const namespace = readString(env, 'MESA_METRICS_NAMESPACE') ?? DEFAULT_METRICS_NAMESPACE
  if (!/^[A-Za-z0-9 ._/#:-]{1,255}$/.test(namespace) || namespace.startsWith('AWS/')) {
    throw new ConfigError('MESA_METRICS_NAMESPACE', 'must be 1 to 255 of A-Z a-z 0-9 . - _ / # : and spaces, not beginning with AWS/')
  }
  // `serverless invoke local` (which sets IS_LOCAL) prints the function's result and log lines for a person to read;
  // an EMF line there feeds no CloudWatch, so it is written only when MESA_METRICS asks for it.
  return { enabled: readBoolean(env, 'MESA_METRICS', readString(env, 'IS_LOCAL') !== 'true'), namespace }
}

/**
 * A secret as a header carries it: a bearer token ends at the first space, and a header cannot carry non-ASCII
 * intact, so such a value could never authenticate and is refused at start instead of failing every request.
 */
export function readSecret(env: Env, name: string): string | undefined {
  const value = readString(env, name)
  if (value === undefined) return undefined
  if (value.length < MIN_SECRET_LENGTH) throw new ConfigError(name, `must be at least ${MIN_SECRET_LENGTH} characters`)
  if (!isBearerToken(value)) throw new ConfigError(name, BEARER_TOKEN_RULE)
  return value
}

/** A token sent as `Authorization: Bearer`, which must be present and fit in a header (src/transport/rest.ts). */
function readBearerToken(env: Env, name: string): string {
  const value = requireString(env, name)
  if (!isBearerToken(value)) throw new ConfigError(name, BEARER_TOKEN_RULE)
  return value
}

/** A trimmed string setting, or undefined when it is unset or blank. */
export function readString(env: Env, name: string): string | undefined {
  const value = env[name]
  if (typeof value !== 'string') return undefined
  const trimmed = value.trim()
  return trimmed === '' ? undefined : trimmed
}

/** A string setting that must be present; the error names the variable, never its value. */
export function requireString(env: Env, name: string): string {
  const value = readString(env, name)
  if (value === undefined) throw new ConfigError(name, 'must be set')
  return value
}

/** An http(s) URL that must be present; the error names the variable, never its value. */
export function requireHttpUrl(env: Env, name: string): string {
  const value = requireString(env, name)
  parseHttpUrl(value, name)
  return value
}

/** An integer setting of at least `min` (and at most `max` when given), or `fallback` when unset. */
export function readInteger(env: Env, name: string, fallback: number, min: number, max?: number): number {
  const value = readString(env, name)
  if (value === undefined) return fallback
  const parsed = Number(value)
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(parsed) || parsed < min || (max !== undefined && parsed > max)) {
    throw new ConfigError(name, max === undefined ? `must be an integer of at least ${min}` : `must be an integer from ${min} to ${max}`)
  }
  return parsed
}

const TRUE = new Set(['true', '1', 'yes', 'on'])
const FALSE = new Set(['false', '0', 'no', 'off'])

/** A boolean setting: true/1/yes/on or false/0/no/off, any case; `fallback` when unset. */
export function readBoolean(env: Env, name: string, fallback: boolean): boolean {
  const value = readString(env, name)?.toLowerCase()
  if (value === undefined) return fallback
  if (TRUE.has(value)) return true
  if (FALSE.has(value)) return false
  throw new ConfigError(name, 'must be true or false')
}
