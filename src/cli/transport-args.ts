import { createDispatchClient } from '../client/client.js'
import type { DispatchClient } from '../client/types.js'
import { type Env, readBoolean, readString } from '../config.js'
import { parseHttpUrl } from '../http-url.js'
import { MAX_CLI_RETRIES, MAX_CLI_TIMEOUT_MS } from '../limits.js'
import type { OptionValues } from './options.js'
import { UsageError } from './usage-error.js'

/** How the CLI reaches Mesa: the deployed endpoint (`maxRetries` from `--retries`), or Redis's REST API directly; `timeoutMs` from `--timeout`. */
export type Transport = (
  | { kind: 'endpoint'; endpoint: string; token?: string; secret?: string; keyId?: string; maxRetries?: number }
  | { kind: 'redis'; url: string; token: string; namespace?: string; sync: boolean }
) & { timeoutMs?: number }

/** The flags that belong to one transport only, so that a flag meant for the other one is not silently ignored. */
const ONLY_FOR: Record<Transport['kind'], { flags: Array<keyof OptionValues>; choose: string }> = {
  endpoint: { flags: ['rest-token', 'namespace', 'sync'], choose: '--rest-url' },
  redis: { flags: ['token', 'secret', 'key-id', 'retries'], choose: '--endpoint' },
}

/** The backend client for the endpoint transport: its token, or signatures with its secret, its `--timeout` and `--retries`. */
export function createEndpointClient(transport: Extract<Transport, { kind: 'endpoint' }>): DispatchClient {
  const { endpoint, token, secret, keyId, timeoutMs, maxRetries } = transport
  const tries = { timeoutMs, ...(maxRetries === undefined ? {} : { maxRetries }) }
  return createDispatchClient(token === undefined ? { endpoint, secret, ...(keyId === undefined ? {} : { keyId }), ...tries } : { endpoint, token, ...tries })
}

const CHOOSE = 'choose a transport: --endpoint URL with --token T or --secret S, or --rest-url URL with --rest-token T'

/**
 * Picks exactly one transport from the flags, else from the env (`MESA_DISPATCH_ENDPOINT` with `DISPATCH_TOKEN` or
 * `DISPATCH_SIGNING_SECRET`; `UPSTASH_REDIS_REST_URL` with `UPSTASH_REDIS_REST_TOKEN`, `MESA_NAMESPACE` and
 * `MESA_SYNC`). Flags win over the env; when a choice would be a guess, it throws a UsageError saying what to pass.
 */
export function chooseTransport(values: OptionValues, env: Env): Transport {
  if (values.endpoint !== undefined && values['rest-url'] !== undefined) throw new UsageError('pass --endpoint or --rest-url, not both')
  let kind: Transport['kind'] | undefined = values.endpoint !== undefined ? 'endpoint' : values['rest-url'] !== undefined ? 'redis' : undefined
  if (kind === undefined) {
    const endpoint = readString(env, 'MESA_DISPATCH_ENDPOINT') !== undefined
    const redis = readString(env, 'UPSTASH_REDIS_REST_URL') !== undefined
    if (endpoint && redis) throw new UsageError('both MESA_DISPATCH_ENDPOINT and UPSTASH_REDIS_REST_URL are set; pass --endpoint or --rest-url to choose')
    kind = endpoint ? 'endpoint' : redis ? 'redis' : undefined
  }
  if (kind === undefined) throw new UsageError(`${CHOOSE} (or set MESA_DISPATCH_ENDPOINT or UPSTASH_REDIS_REST_URL)`)
  const { flags, choose } = ONLY_FOR[kind]
  const foreign = flags.find((flag) => values[flag] !== undefined)
  if (foreign !== undefined) throw new UsageError(`--${foreign} applies only with ${choose}`)
  const transport = kind === 'endpoint' ? endpointTransport(values, env) : redisTransport(values, env)
  return values.timeout === undefined ? transport : { ...transport, timeoutMs: parseTimeout(values.timeout) }
}

/** Refuses a URL flag that is not http(s), naming the flag (or the variable it came from), never the value. */
function requireHttpUrl(url: string, source: string, what: string): void {
  try {
    parseHttpUrl(url, source, what)
  } catch {
    throw new UsageError(`${source} must be ${what}`)
  }
}

function parseTimeout(timeout: string): number {
  const ms = Number(timeout)
  if (!/^\d+$/.test(timeout) || ms < 1 || ms > MAX_CLI_TIMEOUT_MS) {
    throw new UsageError(`--timeout must be a whole number of milliseconds from 1 to ${MAX_CLI_TIMEOUT_MS}, got ${JSON.stringify(timeout)}`)
  }
  return ms
}

function parseRetries(retries: string): number {
  if (!/^\d+$/.test(retries) || Number(retries) > MAX_CLI_RETRIES) {
    throw new UsageError(`--retries must be a whole number from 0 to ${MAX_CLI_RETRIES}, got ${JSON.stringify(retries)}`)
  }
  return Number(retries)
}

function endpointTransport(values: OptionValues, env: Env): Transport {
  const endpoint = values.endpoint ?? readString(env, 'MESA_DISPATCH_ENDPOINT')!
  requireHttpUrl(endpoint, values.endpoint !== undefined ? '--endpoint' : 'MESA_DISPATCH_ENDPOINT', "an http(s) URL, the dispatch endpoint's base URL")
  if (values.token !== undefined && values.secret !== undefined) throw new UsageError('pass --token or --secret, not both')
  const credential = endpointCredential(values, env)
  if (credential.token !== undefined && values['key-id'] !== undefined)
    throw new UsageError('--key-id names the key a --secret signs as; a --token names its key itself')
  const keyId = credential.secret === undefined ? undefined : (values['key-id'] ?? readString(env, 'DISPATCH_KEY_ID'))
  const retries = values.retries === undefined ? {} : { maxRetries: parseRetries(values.retries) }
  return { kind: 'endpoint', endpoint, ...credential, ...(keyId === undefined ? {} : { keyId }), ...retries }
}

function endpointCredential(values: OptionValues, env: Env): { token: string; secret?: never } | { secret: string; token?: never } {
  if (values.token !== undefined) return { token: values.token }
  if (values.secret !== undefined) return { secret: values.secret }
  const token = readString(env, 'DISPATCH_TOKEN')
  const secret = readString(env, 'DISPATCH_SIGNING_SECRET')
  if (token !== undefined && secret !== undefined) {
    throw new UsageError('both DISPATCH_TOKEN and DISPATCH_SIGNING_SECRET are set; pass --token or --secret to choose')
  }
  if (token !== undefined) return { token }
  if (secret !== undefined) return { secret }
  throw new UsageError('--endpoint needs --token T or --secret S (or DISPATCH_TOKEN or DISPATCH_SIGNING_SECRET)')
}

function redisTransport(values: OptionValues, env: Env): Transport {
  const url = values['rest-url'] ?? readString(env, 'UPSTASH_REDIS_REST_URL')!
  // A redis:// URL is Redis's own protocol, which the CLI does not speak: it takes Upstash's REST API.
  requireHttpUrl(url, values['rest-url'] !== undefined ? '--rest-url' : 'UPSTASH_REDIS_REST_URL', 'an http(s) URL, the Upstash REST URL (not redis://)')
  const token = values['rest-token'] ?? readString(env, 'UPSTASH_REDIS_REST_TOKEN')
  if (token === undefined) throw new UsageError('--rest-url needs --rest-token T (or UPSTASH_REDIS_REST_TOKEN)')
  const namespace = values.namespace ?? readString(env, 'MESA_NAMESPACE')
  // A bad MESA_SYNC is only an error when no --sync flag overrides it.
  const sync = values.sync === true || readBoolean(env, 'MESA_SYNC', false)
  return namespace === undefined ? { kind: 'redis', url, token, sync } : { kind: 'redis', url, token, namespace, sync }
}
