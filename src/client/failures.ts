import { errorCodesOf, isUnsent } from '../error-chain.js'
import { DispatchEndpointError, type FailureOutcome } from '../errors.js'
import { RANK, worstOutcome } from './retry.js'

// The errors one attempt of a client call fails with, each saying whether that attempt may have applied anything:
// a question that only reads never did.

/** The typed error for a non-2xx answer, carrying what the endpoint said about it when it said anything. */
export function refusal(response: Response, json: unknown, url: string, read: boolean): DispatchEndpointError {
  const { status } = response
  const retryAfter = parseRetryAfter(response.headers.get('retry-after'))
  const items =
    isObject(json) && Array.isArray(json.results)
      ? (json.results as unknown[]).flatMap((item) => (isObject(item) && isObject(item.error) ? [item.error] : []))
      : []
  // A batch in which every item failed answers with each item's error, not one of its own: the first stands for them.
  const error = isObject(json) ? (isObject(json.error) ? json.error : items[0]) : undefined
  // The endpoint says what it applied; a proxy's own page (an HTML 502, say) may come after it forwarded the request.
  const said = [error, ...items].flatMap((each) => (isOutcome(each?.outcome) ? [each.outcome] : []))
  const outcome = read ? 'none' : said.length > 0 ? said.reduce(worstOutcome) : status >= 500 ? 'unknown' : 'none'
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
      outcome,
    })
  }
  const what = json === undefined ? 'a body that is not JSON' : 'no error description'
  return new DispatchEndpointError(`the dispatch endpoint answered ${status} with ${what}${where}`, { status, retryAfter, outcome })
}

/** A 2xx answer without the expected result: a request that changes something may have been applied. */
export function unexpected(status: number, what: string, read: boolean): DispatchEndpointError {
  return new DispatchEndpointError(`the dispatch endpoint answered ${status} with ${what}`, { status, outcome: read ? 'none' : 'unknown' })
}

/**
 * No answer came: status 0. Nothing was applied when nothing can have been sent (a connection refused, a host
 * that does not resolve); after a timeout or a connection lost, the request may have been applied.
 */
export function unanswered(error: unknown, origin: string, timeoutMs: number, read: boolean): DispatchEndpointError {
  const outcome: FailureOutcome = read || isUnsent(error) ? 'none' : 'unknown'
  return new DispatchEndpointError(`the dispatch endpoint at ${origin} ${describeFailure(error, timeoutMs)}`, { status: 0, outcome }, { cause: error })
}

/** Seconds from `Retry-After`, which is either a number of seconds or an HTTP date. */
function parseRetryAfter(header: string | null): number | undefined {
  if (header === null) return undefined
  if (/^\s*\d+\s*$/.test(header)) return Number(header)
  const at = Date.parse(header)
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000))
}

const isOutcome = (value: unknown): value is FailureOutcome => typeof value === 'string' && Object.hasOwn(RANK, value)

/** Whether a value is a JSON object (not null, not an array). */
export function isObject(value: unknown): value is Record<string, unknown> {
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
