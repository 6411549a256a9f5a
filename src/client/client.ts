import type { BacklogResult, ClearBacklogResult, DispatchResult, PresenceResult, Recipient } from '../core/types.js'
import { errorCodesOf } from '../error-chain.js'
import { ConfigError, DispatchEndpointError } from '../errors.js'
import { parseHttpUrl } from '../http-url.js'
import { DEFAULT_CLIENT_TIMEOUT_MS } from '../limits.js'
import { SIGNATURE_HEADER, signRequest } from '../signature.js'
import { jsonBody } from './json-body.js'
import type {
  BacklogPageOptions,
  DispatchBatchItem,
  DispatchCallOptions,
  DispatchClient,
  DispatchClientOptions,
  DispatchRequestBody,
  HealthStatus,
} from './types.js'

/** A JSON answer the endpoint gave with a 2xx status. */
interface Answer {
  status: number
  body: unknown
}

/**
 * Builds a client of the dispatch endpoint (`POST /dispatch`, the questions `POST /presence`, `/backlog` and
 * `/backlog/clear`, and `GET /health`) for backends that call it. It needs
 * only `fetch` and Web Crypto, so it runs on Node, Bun, Deno and edge runtimes. A body that cannot be JSON (a
 * BigInt, a cycle) rejects with a `ValidationError` naming the field, before any request; every other failure
 * rejects with a `DispatchEndpointError`: the endpoint's status, error name and field, or status 0 when it could
 * not be reached.
 * Nothing is retried, because a call that timed out may still have been applied: retry only calls that carry an
 * `id` or `idempotencyKey`, which makes the repeat a no-op.
 */
export function createDispatchClient(options: DispatchClientOptions): DispatchClient {
  const base = baseUrl(options.endpoint)
  const origin = new URL(base).origin
  const { token, secret } = credentials(options)
  const keyId = options.keyId ?? DEFAULT_KEY_ID
  const timeoutMs = options.timeoutMs ?? DEFAULT_CLIENT_TIMEOUT_MS
  // A wrapper rather than the bare global: Workers throw "Illegal invocation" when fetch is called off its global.
  const fetcher = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init))

  async function send(method: 'GET' | 'POST', path: string, headers: Record<string, string>, body?: string): Promise<Answer> {
    let response: Response
    let text: string
    try {
      response = await fetcher(`${base}${path}`, { method, headers, body, signal: AbortSignal.timeout(timeoutMs) })
      text = await response.text()
    } catch (error) {
      throw new DispatchEndpointError(`the dispatch endpoint at ${origin} ${describeFailure(error, timeoutMs)}`, { status: 0 }, { cause: error })
    }
    const json = parseJson(text)
    if (!response.ok) throw refusal(response, json, `${base}${path}`)
    if (json === undefined) throw unexpected(response.status, 'a body that is not JSON')
    return { status: response.status, body: json }
  }

  /** Posts a body whose own fields go `depth` levels deep, so that a field that cannot be JSON is named. */
  async function post(path: string, payload: unknown, depth: number, callOptions: DispatchCallOptions = {}): Promise<Answer> {
    const body = jsonBody(payload, depth)
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' }
    const { idempotencyKey } = callOptions
    if (idempotencyKey !== undefined) headers['idempotency-key'] = idempotencyKey
    if (token !== undefined) headers.authorization = `Bearer ${token}`
    // The signature covers the route and the Idempotency-Key as well as the body, so a replay can change none of them.
    if (secret !== undefined) headers[SIGNATURE_HEADER] = await signRequest(secret, { keyId, method: 'POST', path, idempotencyKey, body })
    return send('POST', path, headers, body)
  }

  /** Posts to a route that answers `{ ok: true, result }`, and resolves with the result once `has` finds its field. */
  async function result<T>(path: string, payload: unknown, depth: number, has: string, callOptions?: DispatchCallOptions): Promise<T> {
    const { status, body } = await post(path, payload, depth, callOptions)
    if (!isObject(body) || body.ok !== true || !isObject(body.result) || !(has in body.result)) throw unexpected(status, `no ${path.slice(1)} result`)
    return body.result as T
  }

  const dispatch = (request: DispatchRequestBody, callOptions?: DispatchCallOptions) => result<DispatchResult>('/dispatch', request, 2, 'servers', callOptions)
  const backlog = (recipient: Recipient, page: BacklogPageOptions = {}) =>
    result<BacklogResult>('/backlog', { recipient, limit: page.limit, cursor: page.cursor }, 1, 'messages')

  return {
    dispatch,
    async dispatchBatch(requests, callOptions) {
      const { status, body } = await post('/dispatch', { dispatches: requests }, 4, callOptions)
      if (!isObject(body) || !Array.isArray(body.results)) throw unexpected(status, 'no batch results')
      return body.results as DispatchBatchItem[]
    },
    disconnect: (recipients, callOptions) => dispatch({ event: 'DISCONNECT_CLIENT', recipients }, callOptions),
    presence: (recipients) => result<PresenceResult>('/presence', { recipients }, 1, 'online'),
    connectedCount: async () => (await result<{ connected: number }>('/presence', {}, 1, 'connected')).connected,
    backlog,
    async *backlogPages(recipient, page = {}) {
      let cursor: string | null = null
      do {
        const next: BacklogResult = await backlog(recipient, { limit: page.limit, cursor })
        yield next
        cursor = next.cursor
      } while (cursor !== null)
    },
    clearBacklog: (recipients, callOptions) => result<ClearBacklogResult>('/backlog/clear', { recipients }, 1, 'cleared', callOptions),
    async health() {
      const { status, body } = await send('GET', '/health', { accept: 'application/json' })
      if (!isObject(body) || typeof body.ok !== 'boolean' || typeof body.service !== 'string') throw unexpected(status, 'no health status')
      return { ok: body.ok, service: body.service, ...(typeof body.keys === 'number' ? { keys: body.keys } : {}) } satisfies HealthStatus
    },
  }
}

function baseUrl(endpoint: string): string {
  const url = parseHttpUrl(endpoint, 'endpoint')
  // A query or fragment would end up before `/dispatch` and silently change the path.
  if (url.search !== '' || url.hash !== '') throw new ConfigError('endpoint', 'must not have a query or fragment')
  // Both the base URL and the route URL people copy from a ready line or a deploy output are accepted.
  return endpoint.replace(/\/+$/, '').replace(/\/dispatch$/, '')
}

/** The key name a signing client signs as when not told: the one `DISPATCH_SIGNING_SECRET` makes. */
const DEFAULT_KEY_ID = 'default'

function credentials(options: DispatchClientOptions): { token?: string; secret?: string } {
  const { token, secret } = options
  if ((token === undefined) === (secret === undefined)) throw new ConfigError('token', 'or secret must be given, but not both')
  if (token === '') throw new ConfigError('token', 'must not be empty')
  if (secret === '') throw new ConfigError('secret', 'must not be empty')
  return { token, secret }
}

/** The typed error for a non-2xx answer, carrying what the endpoint said about it when it said anything. */
function refusal(response: Response, json: unknown, url: string): DispatchEndpointError {
  const { status } = response
  const retryAfter = parseRetryAfter(response.headers.get('retry-after'))
  const error = isObject(json) ? (isObject(json.error) ? json.error : firstItemError(json.results)) : undefined
  // A 404 means no dispatch endpoint answers where the client called: say where that was (origin and path only,
  // never credentials or a query) and what `endpoint` must be.
  const { origin, pathname } = new URL(url)
  const where = status === 404 ? `: ${origin}${pathname} answered 404; endpoint is the base URL of /dispatch and /health` : ''
  if (error && typeof error.message === 'string') {
    return new DispatchEndpointError(`${error.message}${where}`, {
      status,
      errorName: typeof error.name === 'string' ? error.name : undefined,
      field: typeof error.field === 'string' ? error.field : undefined,
      retryAfter,
    })
  }
  // A proxy's or load balancer's own page (an HTML 502, say) rather than the endpoint's JSON.
  const what = json === undefined ? 'a body that is not JSON' : 'no error description'
  return new DispatchEndpointError(`the dispatch endpoint answered ${status} with ${what}${where}`, { status, retryAfter })
}

/** A batch in which every item failed answers with each item's error, not one of its own: the first stands for them. */
function firstItemError(results: unknown): Record<string, unknown> | undefined {
  const failed = Array.isArray(results) ? (results as unknown[]).find((item) => isObject(item) && isObject(item.error)) : undefined
  return isObject(failed) && isObject(failed.error) ? failed.error : undefined
}

function unexpected(status: number, what: string): DispatchEndpointError {
  return new DispatchEndpointError(`the dispatch endpoint answered ${status} with ${what}`, { status })
}

/** Seconds from `Retry-After`, which is either a number of seconds or an HTTP date. */
function parseRetryAfter(header: string | null): number | undefined {
  if (header === null) return undefined
  if (/^\s*\d+\s*$/.test(header)) return Number(header)
  const at = Date.parse(header)
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000))
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * Says why no answer came, by the failure's code (`ECONNREFUSED`), never by a URL or header it may quote:
 * nothing listening, a host name that does not resolve, a connection dropped unanswered, or no answer in time.
 * The code is read structurally (undici puts it on the `fetch failed` TypeError's cause; other runtimes may put it
 * on the error itself), so that the client stays free of Node's own modules.
 */
function describeFailure(error: unknown, timeoutMs: number): string {
  const { name, message, cause } = (error ?? {}) as { name?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown } }
  // AbortSignal.timeout aborts with a TimeoutError; some runtimes report any abort as an AbortError.
  if (name === 'TimeoutError' || name === 'AbortError') return `did not answer within ${timeoutMs} ms`
  // The first code of the chain: undici's TypeError carries none, its cause (an AggregateError for a host tried at
  // several addresses, whose gathered errors may hold the only codes) does.
  const [code] = errorCodesOf(error)
  if (code === 'ECONNREFUSED') return 'refused the connection (ECONNREFUSED): nothing listens on that port'
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `could not be found: its host name did not resolve (${code})`
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return `closed the connection without an answer (${code})`
  if (typeof code === 'string') return `could not be reached: ${code}`
  const reason = typeof cause?.message === 'string' && cause.message !== '' ? cause.message : typeof message === 'string' ? message : 'unknown error'
  return `could not be reached: ${reason}`
}
