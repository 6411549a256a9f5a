import { isWriteBudgetEnough, WRITE_BUDGET_REASON } from './core/dispatcher-setup.js'
import { isNamespace, NAMESPACE_RULE } from './core/keys.js'
import type { DispatcherConfig } from './core/types.js'
import { ConfigError } from './errors.js'
import { type ApiKey, DEFAULT_KEY_NAME, parseApiKeys, SCOPES } from './http/api-keys.js'
import { parseHttpUrl } from './http-url.js'
import {
  DEFAULT_DEDUPE_TTL_SECONDS,
  DEFAULT_MAX_BATCH,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_RECIPIENTS,
  DEFAULT_MAX_REQUEST_BYTES,
  DEFAULT_MAX_WRITE_BYTES,
  DEFAULT_METRICS_NAMESPACE,
  DEFAULT_REDIS_RETRIES,
  DEFAULT_REDIS_TIMEOUT_MS,
  DEFAULT_SYNC_MAX_AGE_SECONDS,
  DEFAULT_SYNC_MAX_BYTES,
  DEFAULT_SYNC_MAX_MESSAGES,
  MAX_BATCH_LIMIT,
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

/**
 * Reads the Dispatcher's settings from an env object: `UPSTASH_REDIS_REST_URL` and `UPSTASH_REDIS_REST_TOKEN`
 * (required), `MESA_NAMESPACE` (default none), `MESA_SYNC` (default false), and the tuning variables
 * `MESA_SYNC_MAX_MESSAGES`, `MESA_SYNC_MAX_BYTES`, `MESA_SYNC_MAX_AGE_SECONDS`, `DEDUPE_TTL_SECONDS`,
 * `MAX_RECIPIENTS`, `MAX_WRITE_BYTES`, `MAX_REQUEST_BYTES`, `REDIS_TIMEOUT_MS` and `REDIS_RETRIES`, whose
 * defaults are in src/limits.ts.
 */
export function readDispatcherEnv(env: Env): DispatcherEnv {
  const namespace = readString(env, 'MESA_NAMESPACE')
  // The Dispatcher checks these too, naming its own option; checked here with its rule, the error names the variable.
  if (namespace !== undefined && !isNamespace(namespace)) throw new ConfigError('MESA_NAMESPACE', NAMESPACE_RULE)
  const maxBytes = readInteger(env, 'MESA_SYNC_MAX_BYTES', DEFAULT_SYNC_MAX_BYTES, 0)
  const maxWriteBytes = readInteger(env, 'MAX_WRITE_BYTES', DEFAULT_MAX_WRITE_BYTES, 1)
  if (!isWriteBudgetEnough(maxWriteBytes, maxBytes)) {
    // The variable that was set is the one to change: with MAX_WRITE_BYTES at its default, that is MESA_SYNC_MAX_BYTES.
    throw readString(env, 'MAX_WRITE_BYTES') === undefined
      ? new ConfigError('MESA_SYNC_MAX_BYTES', `must be at most MAX_WRITE_BYTES (${maxWriteBytes}), ${WRITE_BUDGET_REASON}`)
      : new ConfigError('MAX_WRITE_BYTES', `must be at least MESA_SYNC_MAX_BYTES (${maxBytes}), ${WRITE_BUDGET_REASON}`)
  }
  return {
    connection: {
      url: requireHttpUrl(env, 'UPSTASH_REDIS_REST_URL'),
      token: readBearerToken(env, 'UPSTASH_REDIS_REST_TOKEN'),
      timeoutMs: readInteger(env, 'REDIS_TIMEOUT_MS', DEFAULT_REDIS_TIMEOUT_MS, 1),
      retries: readInteger(env, 'REDIS_RETRIES', DEFAULT_REDIS_RETRIES, 0),
    },
    config: {
      ...(namespace ? { namespace } : {}),
      sync: {
        enabled: readBoolean(env, 'MESA_SYNC', false),
        maxMessages: readInteger(env, 'MESA_SYNC_MAX_MESSAGES', DEFAULT_SYNC_MAX_MESSAGES, 0),
        maxBytes,
        maxAgeSeconds: readInteger(env, 'MESA_SYNC_MAX_AGE_SECONDS', DEFAULT_SYNC_MAX_AGE_SECONDS, 0),
      },
      dedupeTtlSeconds: readInteger(env, 'DEDUPE_TTL_SECONDS', DEFAULT_DEDUPE_TTL_SECONDS, 1),
      maxRecipients: readInteger(env, 'MAX_RECIPIENTS', DEFAULT_MAX_RECIPIENTS, 1),
      maxWriteBytes,
      maxRequestBytes: readInteger(env, 'MAX_REQUEST_BYTES', DEFAULT_MAX_REQUEST_BYTES, 1),
    },
  }
}

/** The single credential of a deployment without named keys: a key named `default` with every scope. */
export interface AuthSecrets {
  /** Accepted as `Authorization: Bearer <token>`. */
  token?: string
  /** Accepted as well while clients move to a new token (`DISPATCH_TOKEN_PREVIOUS`); only beside `token`. */
  previousToken?: string
  /** Keys the HMAC-SHA256 of signed requests, made with `keyid=default`. */
  signingSecret?: string
}

/** What the env says about the HTTP endpoint in front of the Dispatcher. */
export interface AppEnv extends DispatcherEnv {
  /** The named keys of `DISPATCH_KEYS`, and `default` when `DISPATCH_TOKEN` or `DISPATCH_SIGNING_SECRET` is set. */
  keys: ApiKey[]
  /** @default DEFAULT_MAX_BODY_BYTES (1 MiB) */
  maxBodyBytes: number
  /** At most MAX_BATCH_LIMIT. @default DEFAULT_MAX_BATCH (100) */
  maxBatch: number
}

/**
 * Reads the HTTP endpoint's settings on top of the Dispatcher's: the keys (`readApiKeys`), `MAX_BODY_BYTES` and
 * `MAX_BATCH` (at most MAX_BATCH_LIMIT).
 */
export function readAppEnv(env: Env): AppEnv {
  return {
    ...readDispatcherEnv(env),
    keys: readApiKeys(env),
    maxBodyBytes: readInteger(env, 'MAX_BODY_BYTES', DEFAULT_MAX_BODY_BYTES, 1),
    maxBatch: readInteger(env, 'MAX_BATCH', DEFAULT_MAX_BATCH, 1, MAX_BATCH_LIMIT),
  }
}

/**
 * The keys requests may authenticate with: `DISPATCH_KEYS`, a JSON array of named keys with scopes and rate limits
 * (see `parseApiKeys`), and the single-credential settings `DISPATCH_TOKEN`, `DISPATCH_TOKEN_PREVIOUS` and
 * `DISPATCH_SIGNING_SECRET` (each at least MIN_SECRET_LENGTH printable ASCII characters without spaces), which
 * make a key named `default` with every scope, so a deployment from before named keys works unchanged. None at
 * all means every request is refused. Errors name the variable and the key, never a secret.
 */
export function readApiKeys(env: Env): ApiKey[] {
  const token = readSecret(env, 'DISPATCH_TOKEN')
  const previousToken = readSecret(env, 'DISPATCH_TOKEN_PREVIOUS')
  const signingSecret = readSecret(env, 'DISPATCH_SIGNING_SECRET')
  // A previous token alone would leave the endpoint on a token that is being retired, with nothing to move to.
  if (previousToken && !token) throw new ConfigError('DISPATCH_TOKEN_PREVIOUS', 'is accepted only beside DISPATCH_TOKEN, the token it is being replaced by')
  const legacy = keyOfSecrets({ token, previousToken, signingSecret })
  const listed = readString(env, 'DISPATCH_KEYS')
  if (listed === undefined) return legacy
  let parsed: unknown
  try {
    parsed = JSON.parse(listed)
  } catch {
    // JSON.parse's message quotes the text around the fault, which holds secrets: say only where it is.
    throw new ConfigError('DISPATCH_KEYS', 'is not valid JSON')
  }
  const keys = parseApiKeys(parsed, 'DISPATCH_KEYS')
  if (legacy.length > 0 && keys.some((key) => key.name === DEFAULT_KEY_NAME)) {
    throw new ConfigError(
      'DISPATCH_KEYS',
      `names a key "${DEFAULT_KEY_NAME}", which DISPATCH_TOKEN or DISPATCH_SIGNING_SECRET already makes: rename it, or move those secrets into it`,
    )
  }
  return parseApiKeys([...legacy, ...keys], 'DISPATCH_KEYS')
}

/** The key `default`, with every scope, that single-credential settings make; none when neither secret is set. */
export function keyOfSecrets(secrets: AuthSecrets): ApiKey[] {
  const { token, previousToken, signingSecret } = secrets
  if (!token && !signingSecret) return []
  return [
    {
      name: DEFAULT_KEY_NAME,
      ...(token ? { token } : {}),
      ...(previousToken ? { previousToken } : {}),
      ...(signingSecret ? { signingSecret } : {}),
      scopes: [...SCOPES],
    },
  ]
}

/** What the env says about the metrics the Lambda functions write (CloudWatch Embedded Metric Format). */
export interface MetricsEnv {
  /** @default true */
  enabled: boolean
  /** @default DEFAULT_METRICS_NAMESPACE ('MesaDispatch') */
  namespace: string
}

/**
 * Reads `MESA_METRICS` (default true) and `MESA_METRICS_NAMESPACE` (default `MesaDispatch`), which CloudWatch allows
 * 1 to 255 of `A-Z a-z 0-9 . - _ / # :` and spaces, not beginning with `AWS/`.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDatum.html
 */
export function readMetricsEnv(env: Env): MetricsEnv {
  const namespace = readString(env, 'MESA_METRICS_NAMESPACE') ?? DEFAULT_METRICS_NAMESPACE
  if (!/^[A-Za-z0-9 ._/#:-]{1,255}$/.test(namespace) || namespace.startsWith('AWS/')) {
    throw new ConfigError('MESA_METRICS_NAMESPACE', 'must be 1 to 255 of A-Z a-z 0-9 . - _ / # : and spaces, not beginning with AWS/')
  }
  return { enabled: readBoolean(env, 'MESA_METRICS', true), namespace }
}

/**
 * A secret as a header carries it: a bearer token ends at the first space, and a header cannot carry non-ASCII
 * intact, so such a value could never authenticate and is refused at start instead of failing every request.
 */
function readSecret(env: Env, name: string): string | undefined {
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
