import type { BacklogResult, ClearBacklogResult, DispatchResult, PresenceResult, Recipient } from '../core/types.js'
import { ConfigError } from '../errors.js'
import { parseHttpUrl } from '../http-url.js'
import { DEFAULT_CLIENT_TIMEOUT_MS } from '../limits.js'
import { SIGNATURE_HEADER, signRequest } from '../signature.js'
import { isObject, refusal, unanswered, unexpected } from './failures.js'
import { jsonBody } from './json-body.js'
import { retryPolicy, withRetries } from './retry.js'
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

/** One call as every attempt sends it: signed afresh each time, with the same Idempotency-Key. */
interface Call {
  method: 'GET' | 'POST'
  path: string
  body?: string
  idempotencyKey?: string
  /** A question that only reads, which no failure can have applied. */
  read: boolean
}

/** How a call that changes something is keyed: `own` when its body carries the caller's id, and the caller's options. */
interface Keyed {
  own: boolean
  options?: DispatchCallOptions
}

/**
 * Builds a client of the dispatch endpoint (`POST /dispatch`, the questions `POST /presence`, `/backlog` and
 * `/backlog/clear`, and `GET /health`) for backends that call it. It needs
 * only `fetch`, Web Crypto and `setTimeout`, so it runs on Node, Bun, Deno and edge runtimes. A body that cannot be
 * JSON (a BigInt, a cycle) rejects with a `ValidationError` naming the field, before any request; every other
 * failure rejects with a `DispatchEndpointError`: the endpoint's status, error name and field, or status 0 when it
 * could not be reached, with the call's `outcome`, `attempts` and `idempotencyKey`.
 * A dispatch or a clear without an id of the caller's gets a random `Idempotency-Key`, so that it is retried (on no
 * answer, a 429 or a 5xx, up to `maxRetries` times within `deadlineMs`) with the same key and applied at most once.
 */
export function createDispatchClient(options: DispatchClientOptions): DispatchClient {
  const base = baseUrl(options.endpoint)
  const origin = new URL(base).origin
  const { token, secret } = credentials(options)
  const keyId = options.keyId ?? DEFAULT_KEY_ID
  const timeoutMs = options.timeoutMs ?? DEFAULT_CLIENT_TIMEOUT_MS
  const policy = retryPolicy(options)
  // A wrapper rather than the bare global: Workers throw "Illegal invocation" when fetch is called off its global.
  const fetcher = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init))

  /** One attempt: a signature of its own, since its timestamp must be fresh, over the call's unchanged key and body. */
  async function attempt(call: Call, timeLeftMs: number): Promise<Answer> {
    const { method, path, body, idempotencyKey, read } = call
    const headers: Record<string, string> = { accept: 'application/json' }
    if (method === 'POST') {
      headers['content-type'] = 'application/json'
      if (idempotencyKey !== undefined) headers['idempotency-key'] = idempotencyKey
      if (token !== undefined) headers.authorization = `Bearer ${token}`
      // The signature covers the route and the Idempotency-Key as well as the body, so a replay can change none of them.
      if (secret !== undefined)
        headers[SIGNATURE_HEADER] = await signRequest(secret, {
          keyId,
          method,
          path,
          idempotencyKey,
          body: body ?? '',
          timestamp: Math.floor(policy.now() / 1000),
        })
    }
    const waitMs = Math.min(timeoutMs, timeLeftMs)
    let response: Response
    let text: string
    try {
      response = await fetcher(`${base}${path}`, { method, headers, body, signal: AbortSignal.timeout(waitMs) })
      text = await response.text()
    } catch (error) {
      throw unanswered(error, origin, waitMs, read)
    }
    const json = parseJson(text)
    if (!response.ok) throw refusal(response, json, `${base}${path}`, read)
    if (json === undefined) throw unexpected(response.status, 'a body that is not JSON', read)
    return { status: response.status, body: json }
  }

  /** Sends a call, and again after each failure a retry can fix, until `check` takes an answer's body. */
  const send = <T>(call: Call, check: (answer: Answer) => T): Promise<T> =>
    withRetries(policy, async (timeLeftMs) => check(await attempt(call, timeLeftMs)), call.idempotencyKey)

  /**
   * Posts a body whose own fields go `depth` levels deep, so that a field that cannot be JSON is named. A call that
   * changes something (`keyed`) and carries no id of the caller's gets a key of its own, which makes a retry a no-op.
   */
  async function post<T>(path: string, payload: unknown, depth: number, check: (answer: Answer) => T, keyed?: Keyed) {
    const body = jsonBody(payload, depth)
    const idempotencyKey = keyed?.options?.idempotencyKey ?? (keyed && !keyed.own ? crypto.randomUUID() : undefined)
    return send({ method: 'POST', path, body, idempotencyKey, read: keyed === undefined }, check)
  }

  /** Posts to a route that answers `{ ok: true, result }`, and resolves with the result once `has` finds its field. */
  async function result<T>(path: string, payload: unknown, depth: number, has: string, keyed?: Keyed): Promise<T> {
    return post(
      path,
      payload,
      depth,
      ({ status, body }) => {
        if (!isObject(body) || body.ok !== true || !isObject(body.result) || !(has in body.result))
          throw unexpected(status, `no ${path.slice(1)} result`, !keyed)
        return body.result as T
      },
      keyed,
    )
  }

  const dispatch = (request: DispatchRequestBody, callOptions?: DispatchCallOptions) =>
    result<DispatchResult>('/dispatch', request, 2, 'servers', { own: request.id !== undefined, options: callOptions })
  const backlog = (recipient: Recipient, page: BacklogPageOptions = {}) =>
    result<BacklogResult>('/backlog', { recipient, limit: page.limit, cursor: page.cursor }, 1, 'messages')

  return {
    dispatch,
    dispatchBatch: (requests, callOptions) =>
      post(
        '/dispatch',
        { dispatches: requests },
        4,
        ({ status, body }) => {
          if (!isObject(body) || !Array.isArray(body.results)) throw unexpected(status, 'no batch results', false)
          return body.results as DispatchBatchItem[]
        },
        // Items without an id of their own get `<key>:<index>`; a batch whose items all have one needs no key.
        { own: requests.every((request) => request.id !== undefined), options: callOptions },
      ),
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
    clearBacklog: (recipients, callOptions) => result<ClearBacklogResult>('/backlog/clear', { recipients }, 1, 'cleared', { own: false, options: callOptions }),
    health: () =>
      send({ method: 'GET', path: '/health', read: true }, ({ status, body }) => {
        if (!isObject(body) || typeof body.ok !== 'boolean' || typeof body.service !== 'string') throw unexpected(status, 'no health status', true)
        return { ok: body.ok, service: body.service, ...(typeof body.keys === 'number' ? { keys: body.keys } : {}) } satisfies HealthStatus
      }),
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

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}
