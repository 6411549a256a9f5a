import { checkRateLimit } from '../core/rate-limit.js'
import { ConfigError, ValidationError } from '../errors.js'
import { MIN_SECRET_LENGTH } from '../limits.js'
import { BEARER_TOKEN_RULE, isBearerToken } from '../transport/rest.js'

// The named keys a deployment gives its callers, each with the routes it may call and a request budget of its own.

/** What a key may do: one scope per route that does something. */
export const SCOPES = ['dispatch', 'presence', 'backlog:read', 'backlog:clear'] as const

/** A key's permission to call one route: `dispatch` (POST /dispatch), `presence`, `backlog:read`, `backlog:clear`. */
export type Scope = (typeof SCOPES)[number]

/** How many requests a key may make per window; a batch counts as its number of dispatches. */
export interface KeyRateLimit {
  /** Requests per window, at least 1. */
  requests: number
  /** The window, in seconds; windows are aligned to the Unix epoch. */
  windowSeconds: number
}

/** One named key, as `DISPATCH_KEYS` lists it or `createApp({ keys })` takes it. */
export interface ApiKey {
  /** 1-64 of `A-Z a-z 0-9 _ . -`; shown in logs and metrics, so never a secret. */
  name: string
  /** Accepted as `Authorization: Bearer <token>`. */
  token?: string
  /** Accepted as well while this key's callers move to a new token; only beside `token`. */
  previousToken?: string
  /** Keys the HMAC of this key's signed requests (`keyid=<name>`). */
  signingSecret?: string
  /** Accepted as well while this key's callers move to a new signing secret; only beside `signingSecret`. */
  previousSigningSecret?: string
  /** The routes this key may call; at least one. */
  scopes: Scope[]
  /** The key's request budget, counted in Redis across every instance. @default none (unlimited) */
  rateLimit?: KeyRateLimit
}

/** The name a deployment's single-credential settings (`DISPATCH_TOKEN`, `DISPATCH_SIGNING_SECRET`) are known by. */
export const DEFAULT_KEY_NAME = 'default'

/** What a key name must be, as a ConfigError says it. */
export const KEY_NAME_RULE = 'must be 1-64 characters of A-Z a-z 0-9 _ . -'

const KEY_NAME = /^[A-Za-z0-9_.-]{1,64}$/
const SECRET_FIELDS = ['token', 'previousToken', 'signingSecret', 'previousSigningSecret'] as const
const KEY_FIELDS = new Set(['name', ...SECRET_FIELDS, 'scopes', 'rateLimit'])
const RATE_LIMIT_FIELDS = new Set(['requests', 'windowSeconds'])

/** Whether a value is a scope this package knows. */
export function isScope(value: unknown): value is Scope {
  return (SCOPES as readonly unknown[]).includes(value)
}

/**
 * Checks a list of keys, from `DISPATCH_KEYS` or from code, and returns it as typed keys. Every problem throws a
 * ConfigError naming `variable` and the key (its name, or its index when the name is the problem), never a secret:
 * a name outside KEY_NAME_RULE, a name used twice, an unknown field, an unknown, repeated or missing scope, a key
 * with neither a token nor a signing secret, a secret that could never authenticate (too short, not printable
 * ASCII, or another key's token), a previous secret without a current one, and a rate limit out of range.
 */
export function parseApiKeys(value: unknown, variable: string): ApiKey[] {
  if (!Array.isArray(value)) throw new ConfigError(variable, 'must be a JSON array of keys, each { "name", "token" or "signingSecret", "scopes" }')
  if (value.length === 0) throw new ConfigError(variable, 'must hold at least one key')
  const keys = value.map((entry, index) => parseKey(entry, index, variable))
  const names = new Set<string>()
  const tokens = new Map<string, string>()
  for (const key of keys) {
    if (names.has(key.name)) throw new ConfigError(variable, `names the key "${key.name}" twice`)
    names.add(key.name)
    for (const token of [key.token, key.previousToken]) {
      if (token === undefined) continue
      // A bearer token names its key: one that two keys share could only ever authenticate as one of them.
      const owner = tokens.get(token)
      if (owner !== undefined) throw new ConfigError(variable, `key "${key.name}": its token is also key "${owner}"'s; give each key its own`)
      tokens.set(token, key.name)
    }
  }
  return keys
}

function parseKey(entry: unknown, index: number, variable: string): ApiKey {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new ConfigError(variable, `[${index}] must be an object`)
  const fields = entry as Record<string, unknown>
  if (typeof fields.name !== 'string' || !KEY_NAME.test(fields.name)) throw new ConfigError(variable, `[${index}].name ${KEY_NAME_RULE}`)
  const { name } = fields
  const fail = (problem: string) => new ConfigError(variable, `key "${name}": ${problem}`)
  const unknown = Object.keys(fields).find((field) => !KEY_FIELDS.has(field))
  if (unknown !== undefined) throw fail(`has an unknown field ${quoteField(unknown)} (known: ${[...KEY_FIELDS].join(', ')})`)
  const key: ApiKey = { name, scopes: parseScopes(fields.scopes, fail) }
  for (const field of SECRET_FIELDS) {
    const secret = fields[field]
    if (secret === undefined) continue
    if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH) throw fail(`${field} must be a string of at least ${MIN_SECRET_LENGTH} characters`)
    // A header cannot carry it intact otherwise: such a secret could never authenticate.
    if (!isBearerToken(secret)) throw fail(`${field} ${BEARER_TOKEN_RULE}`)
    key[field] = secret
  }
  if (key.token === undefined && key.signingSecret === undefined) throw fail('needs a token or a signingSecret (or both)')
  if (key.previousToken !== undefined && key.token === undefined) throw fail('previousToken is accepted only beside token, the token it is being replaced by')
  if (key.previousSigningSecret !== undefined && key.signingSecret === undefined) {
    throw fail('previousSigningSecret is accepted only beside signingSecret, the secret it is being replaced by')
  }
  if (fields.rateLimit !== undefined) key.rateLimit = parseRateLimit(fields.rateLimit, fail)
  return key
}

function parseScopes(value: unknown, fail: (problem: string) => ConfigError): Scope[] {
  if (!Array.isArray(value) || value.length === 0) throw fail(`scopes must be a non-empty array of ${SCOPES.join(', ')}`)
  const scopes: Scope[] = []
  for (const scope of value) {
    if (!isScope(scope)) throw fail(`has an unknown scope ${quoteField(scope)} (known: ${SCOPES.join(', ')})`)
    if (scopes.includes(scope)) throw fail(`names the scope ${scope} twice`)
    scopes.push(scope)
  }
  return scopes
}

function parseRateLimit(value: unknown, fail: (problem: string) => ConfigError): KeyRateLimit {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw fail('rateLimit must be { "requests": N, "windowSeconds": S }')
  const fields = value as Record<string, unknown>
  const unknown = Object.keys(fields).find((field) => !RATE_LIMIT_FIELDS.has(field))
  if (unknown !== undefined) throw fail(`rateLimit has an unknown field ${quoteField(unknown)} (known: requests, windowSeconds)`)
  const limit = { requests: fields.requests as number, windowSeconds: fields.windowSeconds as number }
  try {
    // The Dispatcher's own check, which every rate limit meets: one rule, named here as the setting spells it.
    checkRateLimit({ name: 'checked', ...limit })
  } catch (error) {
    if (error instanceof ValidationError) throw fail(`${error.field} ${error.problem}`)
    throw error
  }
  return limit
}

/** A field name or scope from the settings, quoted and cut short: it is the operator's text, but it may be a pasted secret. */
function quoteField(value: unknown): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value))
  return JSON.stringify(text.length > 32 ? `${text.slice(0, 32)}…` : text)
}
