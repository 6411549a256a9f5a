import { Redis, type Requester, type UpstashRequest, type UpstashResponse } from '@upstash/redis'
import { errorCodesOf, isUnsent, rootCauseOf, summarizeError } from '../error-chain.js'
import { ConfigError, type FailureOutcome, RedisCommandError, RedisTokenRefusedError, RedisUnavailableError } from '../errors.js'
import { parseHttpUrl } from '../http-url.js'
import { DEFAULT_REDIS_BACKOFF_MS, DEFAULT_REDIS_RETRIES, DEFAULT_REDIS_TIMEOUT_MS } from '../limits.js'
import { isPartlyPublished } from '../script/lua-script.js'
import { createNodePost, type PostAnswer } from './node-http.js'

/** Where and how to reach an Upstash-compatible REST endpoint. */
export interface RestConnection {
  /** The REST URL, e.g. `https://eu1-xyz.upstash.io`. */
  url: string
  /** The REST token, sent as a Bearer token; never logged. */
  token: string
  /** The longest one attempt may take, in milliseconds. @default 5000 */
  timeoutMs?: number
  /** Extra attempts after a network error, a timeout or a 5xx answer; 4xx answers are never retried. @default 2 */
  retries?: number
  /** The first backoff ceiling in milliseconds; each retry waits a random time up to base * 2^attempt. @default 50 */
  backoffMs?: number
  /** The epoch milliseconds by which every attempt must be over, e.g. a Lambda's end minus a margin. */
  deadline?: () => number | undefined
  /**
   * Whether the scripts go under Upstash's `#!lua flags=allow-key-locking` shebang, so that each call locks only
   * its own keys instead of the whole database (docs/configuration.md says how to check a database supports it);
   * redis-server refuses the flag. @default false
   */
  keyLocking?: boolean
}

/** What a Bearer token must be to travel in a header intact: a space would end it, and a header cannot carry non-ASCII. */
export const BEARER_TOKEN_RULE = 'must be printable ASCII without spaces'

/** Whether a value can be sent as `Authorization: Bearer <value>` and arrive unchanged. */
export function isBearerToken(value: string): boolean {
  return /^[\x21-\x7e]+$/.test(value)
}

/**
 * A transport for `@upstash/redis` over Node's http and https modules where they are at hand (node-http.ts), else
 * over fetch, used instead of its own HttpClient because that one cannot do what a Lambda needs: it does not retry
 * 5xx answers, hides the HTTP status, and turns an aborted request into a successful `"Aborted"` result when given a
 * plain AbortSignal. Over Node's modules a redirect, which no Upstash endpoint sends, is not followed but refused as
 * the answer it is (fetch follows it). It sends no `cache` field, which workerd rejects under older compatibility
 * dates, and asks for plain JSON (no `Upstash-Encoding: base64`) because the dispatch script only ever returns ASCII.
 */
export function createRestRequester(connection: RestConnection): Requester {
  const base = parseUrl(connection.url)
  const parsed = new URL(base)
  // Named in every failure: an origin holds no path, query or user:password@, so it is safe to show and to log.
  const at = parsed.origin
  if (!connection.token) throw new ConfigError('token', 'is required for the Upstash REST endpoint')
  // fetch would refuse such a header with a TypeError quoting it, token and all, on every request.
  if (!isBearerToken(connection.token)) throw new ConfigError('token', BEARER_TOKEN_RULE)
  const headers = { authorization: `Bearer ${connection.token}`, 'content-type': 'application/json' }
  const timeoutMs = connection.timeoutMs ?? DEFAULT_REDIS_TIMEOUT_MS
  const retries = connection.retries ?? DEFAULT_REDIS_RETRIES
  const backoffMs = connection.backoffMs ?? DEFAULT_REDIS_BACKOFF_MS

  // A URL with user:password@ in it goes to fetch, which refuses it having sent nothing, as it always did.
  const post = parsed.username || parsed.password ? undefined : createNodePost()

  async function attempt(url: string, init: RequestInit & { body: string; headers: Record<string, string> }, budget: number): Promise<PostAnswer> {
    const ms = Math.max(1, Math.min(timeoutMs, budget))
    if (post) return post(url, init.headers, init.body, ms, init.signal ?? undefined)
    const timeout = AbortSignal.timeout(ms)
    const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout
    const response = await fetch(url, { ...init, signal })
    return {
      status: response.status,
      async text() {
        try {
          return await response.text()
        } finally {
          markResponseRead()
        }
      },
      discard: () => void response.body?.cancel(),
    }
  }

  return {
    async request<TResult>(req: UpstashRequest): Promise<UpstashResponse<TResult>> {
      const url = [base, ...(req.path ?? [])].join('/')
      const init = {
        method: 'POST',
        headers: req.headers ? { ...headers, ...req.headers } : headers,
        body: JSON.stringify(req.body),
        signal: req.signal ?? null,
      }
      let failure: RedisUnavailableError | undefined
      // Whether an attempt so far may have reached Redis: the outcome of a failure is the worst of every attempt's.
      let outcome: FailureOutcome = 'none'
      for (let attemptIndex = 0; attemptIndex <= retries; attemptIndex++) {
        if (attemptIndex > 0) await sleep(Math.random() * backoffMs * 2 ** attemptIndex, connection.deadline)
        // The socket a response read in this macrotask freed goes back to the pool in the next one.
        if (released) await released
        const budget = remaining(connection.deadline)
        if (budget <= 0) break
        let response: PostAnswer
        try {
          response = await attempt(url, init, budget)
        } catch (error) {
          if (req.signal?.aborted) throw error
          if (!isUnsent(error)) outcome = 'unknown'
          failure = new RedisUnavailableError(`Redis REST request to ${at} failed: ${describeFetchError(error)}`, undefined, { cause: error, outcome })
          continue
        }
        if (response.status >= 500) {
          response.discard()
          // A proxy may answer 5xx after forwarding the request, and Redis may have run it.
          outcome = 'unknown'
          failure = new RedisUnavailableError(`Redis REST endpoint ${at} answered ${response.status}`, response.status)
          continue
        }
        return await readBody<TResult>(response, at, outcome)
      }
      throw failure ?? new RedisUnavailableError('no time left before the deadline to reach Redis', undefined, { outcome })
    },
  }
}

/**
 * Loads what the REST transport's first request sends with, without sending anything: Node's http and https
 * modules where it uses them, else fetch (undici, which Node loads at the first use of it or of its classes).
 */
export function loadRestTransport(): void {
  if (!createNodePost()) new Headers()
}

/**
 * The class each platform entry of `@upstash/redis` (`/`, `/cloudflare`, `/fastly`) extends with its own way of
 * reading config; it takes a Requester as is. Building on it instead of an entry's class lets the edge bundle use
 * the smallest entry (see esbuild.config.mjs), and lets a client from any entry be recognised.
 */
const BaseRedis: typeof Redis = baseOf(Redis)

function baseOf(entry: typeof Redis): typeof Redis {
  const parent = Object.getPrototypeOf(entry) as typeof Redis | null
  return typeof parent?.prototype?.createScript === 'function' ? parent : entry
}

/** Whether a value is a client from `@upstash/redis`, whichever platform entry built it. */
export function isUpstashRedis(value: unknown): value is Redis {
  return value instanceof BaseRedis
}

/**
 * An `@upstash/redis` client on the retrying, timeout-bounded transport. It needs no auto-pipelining: the
 * Dispatcher already packs the dispatches of one tick into one script call, so each call is one plain request.
 */
class RestRedis extends BaseRedis {
  constructor(requester: Requester) {
    super(requester)
    // The script's reply is plain ASCII lines, not JSON: decoding it would only throw and catch a parse error
    // per call inside the client (the costliest step the benchmark found).
    this.opts = { ...this.opts, automaticDeserialization: false }
  }
}

/** Builds an `@upstash/redis` client on the retrying, timeout-bounded transport; it returns replies undecoded (strings stay strings). */
export function createRestRedis(connection: RestConnection): Redis {
  return createRedisOn(createRestRequester(connection))
}

/** Builds the same client on another transport, e.g. one that answers in the process (src/http/warm-path.ts). */
export function createRedisOn(requester: Requester): Redis {
  return new RestRedis(requester)
}

/**
 * The answer's body, or the error it is. A refusal applied nothing, unless an earlier attempt may have (`outcome`);
 * an answer that cannot be read may have been applied.
 */
async function readBody<TResult>(response: PostAnswer, at: string, outcome: FailureOutcome): Promise<UpstashResponse<TResult>> {
  const text = await response.text()
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch (error) {
    throw new RedisUnavailableError(`Redis REST endpoint ${at} answered ${response.status} with a body that is not JSON`, response.status, { cause: error })
  }
  if (response.status >= 200 && response.status < 300) return body as UpstashResponse<TResult>
  if (response.status === 401 || response.status === 403) {
    throw new RedisTokenRefusedError(`Redis REST endpoint ${at} refused the REST token (HTTP ${response.status})`, response.status, { outcome })
  }
  const reason = typeof (body as { error?: unknown })?.error === 'string' ? (body as { error: string }).error : 'an error'
  const failure = new RedisCommandError(`Redis REST endpoint ${at} answered ${response.status}: ${reason}`, response.status, { outcome })
  throw isPartlyPublished(failure) ? new RedisCommandError(failure.message, response.status, { outcome: 'unknown' }) : failure
}

// Node's fetch (undici) hands a keep-alive socket back to its pool one macrotask after the response was read: a
// request sent sooner, as the EVAL after a NOSCRIPT or the next part of a split dispatch are, would open a second
// connection (a TCP and TLS handshake) instead of reusing the one just freed. The pool is the process's, so this
// note is too. Edge runtimes, which have no setImmediate, pool connections themselves.
let released: Promise<void> | undefined

/** Notes that a response was read: requests until the next macrotask wait for its socket to go back to the pool. */
function markResponseRead(): void {
  const { setImmediate } = globalThis as { setImmediate?: (callback: () => void) => unknown }
  if (!setImmediate) return
  const next = new Promise<void>((resolve) => setImmediate(resolve))
  released = next
  void next.then(() => {
    if (released === next) released = undefined
  })
}

function parseUrl(url: string): string {
  parseHttpUrl(url, 'url', 'an http(s) URL of an Upstash REST endpoint')
  return url.replace(/\/+$/, '')
}

function remaining(deadline: RestConnection['deadline']): number {
  const at = deadline?.()
  return at === undefined ? Number.POSITIVE_INFINITY : at - Date.now()
}

function sleep(ms: number, deadline: RestConnection['deadline']): Promise<void> {
  const wait = Math.max(0, Math.min(ms, remaining(deadline)))
  return new Promise((resolve) => setTimeout(resolve, wait))
}

/**
 * Names the failure by the codes in its chain (`ECONNREFUSED`, `ENOTFOUND`, `ETIMEDOUT`), which undici nests under
 * TypeError('fetch failed'), in an AggregateError's `errors` when a host had several addresses; else by its
 * innermost cause (workerd gives no codes). Never by a URL or header, which may carry credentials.
 */
export function describeFetchError(error: unknown): string {
  const name = (error as { name?: unknown } | null)?.name
  if (name === 'TimeoutError' || name === 'AbortError') return 'timed out'
  const codes = errorCodesOf(error)
  if (codes.length > 0) return codes.join(', ')
  const root = summarizeError(rootCauseOf(error))
  return root.message === '' ? root.name : `${root.name}: ${root.message}`
}
