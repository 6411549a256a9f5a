import { type DispatcherEnv, type Env, readDispatcherEnv, readInteger, readSecret, readSettings, readString } from '../config.js'
import { ConfigError } from '../errors.js'
import { DEFAULT_MAX_BATCH, DEFAULT_MAX_BODY_BYTES, MAX_BATCH_LIMIT } from '../limits.js'
import { type ApiKey, DEFAULT_KEY_NAME, parseApiKeys, SCOPES } from './api-keys.js'

// The HTTP endpoint's settings, read from an env object as the http function and the edge bundle read them at start:
// apart from src/config.ts, so that the functions without an endpoint carry none of it.

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

/** The HTTP endpoint's settings on top of the Dispatcher's, each read on its own. */
const APP_SETTINGS = {
  dispatcher: readDispatcherEnv,
  keys: readApiKeys,
  maxBodyBytes: (env: Env) => readInteger(env, 'MAX_BODY_BYTES', DEFAULT_MAX_BODY_BYTES, 1),
  maxBatch: (env: Env) => readInteger(env, 'MAX_BATCH', DEFAULT_MAX_BATCH, 1, MAX_BATCH_LIMIT),
}

/**
 * Reads the HTTP endpoint's settings on top of the Dispatcher's: the keys (`readApiKeys`), `MAX_BODY_BYTES` and
 * `MAX_BATCH` (at most MAX_BATCH_LIMIT). Every wrong one is named in the one ConfigError it throws.
 */
export function readAppEnv(env: Env): AppEnv {
  const { dispatcher, keys, maxBodyBytes, maxBatch } = readSettings(env, APP_SETTINGS)
  return { ...dispatcher, keys, maxBodyBytes, maxBatch }
}

/**
 * The keys requests may authenticate with: `DISPATCH_KEYS`, a JSON array of named keys with scopes and rate limits
 * (see `parseApiKeys`), and the single-credential settings (`readAuthSecrets`), which make a key named `default`
 * with every scope, so a deployment from before named keys works unchanged. None at all means every request is
 * refused. Errors name the variable and the key, never a secret; every wrong one is named in one ConfigError.
 */
export function readApiKeys(env: Env): ApiKey[] {
  const { secrets, listed } = readSettings(env, { secrets: readAuthSecrets, listed: readKeyList })
  const legacy = keyOfSecrets(secrets)
  if (listed.length === 0) return legacy
  if (legacy.length > 0 && listed.some((key) => key.name === DEFAULT_KEY_NAME)) {
    throw new ConfigError(
      'DISPATCH_KEYS',
      `names a key "${DEFAULT_KEY_NAME}", which DISPATCH_TOKEN or DISPATCH_SIGNING_SECRET already makes: rename it, or move those secrets into it`,
    )
  }
  return parseApiKeys([...legacy, ...listed], 'DISPATCH_KEYS')
}

/** `DISPATCH_KEYS` alone, checked by `parseApiKeys`; none when it is unset. */
function readKeyList(env: Env): ApiKey[] {
  const listed = readString(env, 'DISPATCH_KEYS')
  if (listed === undefined) return []
  let parsed: unknown
  try {
    parsed = JSON.parse(listed)
  } catch {
    // JSON.parse's message quotes the text around the fault, which holds secrets: say only that it is not JSON.
    throw new ConfigError('DISPATCH_KEYS', 'is not valid JSON')
  }
  return parseApiKeys(parsed, 'DISPATCH_KEYS')
}

/** The single-credential settings; none at all is allowed here (the app then refuses every request). */
export function readAuthSecrets(env: Env): AuthSecrets {
  const { token, previousToken, signingSecret } = readSettings(env, {
    token: (env: Env) => readSecret(env, 'DISPATCH_TOKEN'),
    previousToken: (env: Env) => readSecret(env, 'DISPATCH_TOKEN_PREVIOUS'),
    signingSecret: (env: Env) => readSecret(env, 'DISPATCH_SIGNING_SECRET'),
  })
  // A previous token alone would leave the endpoint on a token that is being retired, with nothing to move to.
  if (previousToken && !token) throw new ConfigError('DISPATCH_TOKEN_PREVIOUS', 'is accepted only beside DISPATCH_TOKEN, the token it is being replaced by')
  return { ...(token ? { token } : {}), ...(previousToken ? { previousToken } : {}), ...(signingSecret ? { signingSecret } : {}) }
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
