import { MAX_LOGGED_CAUSES, MAX_LOGGED_GATHERED_ERRORS, MAX_LOGGED_MESSAGE_LENGTH } from './limits.js'

// Reading an error's chain of causes, which is where a runtime says what really failed: Node's fetch (undici)
// throws TypeError('fetch failed') with the system error as `cause`, an AggregateError when it tried several
// addresses of a host (::1, then 127.0.0.1), whose `errors` carry one code each.
// https://nodejs.org/api/errors.html#errorcode and https://undici.nodejs.org/#/docs/api/Errors

/** One error of a chain as a log line carries it: never its stack, nor any property but these. */
export interface ErrorSummary {
  name: string
  /** The runtime's code, e.g. `ECONNREFUSED`, `ENOTFOUND`, `ETIMEDOUT`, `UND_ERR_SOCKET`, when it gave one. */
  code?: string
  /** The message, with every URL cut to its origin (no user:password@, path or query) and long ones shortened. */
  message: string
  /** What an AggregateError gathered, e.g. one refused connection per address tried. */
  errors?: ErrorSummary[]
  cause?: ErrorSummary
}

interface ErrorLike {
  name?: unknown
  message?: unknown
  code?: unknown
  cause?: unknown
  errors?: unknown
}

const isErrorLike = (value: unknown): value is ErrorLike => typeof value === 'object' && value !== null

/**
 * Summarizes an error and, down to MAX_LOGGED_CAUSES levels, its causes. A thrown value that is not an object is
 * named by its type alone, since a thrown string could hold anything.
 */
export function summarizeError(error: unknown): ErrorSummary {
  return summarizeAt(error, 0)
}

function summarizeAt(error: unknown, depth: number): ErrorSummary {
  if (!isErrorLike(error)) return { name: typeof error, message: '' }
  const summary: ErrorSummary = {
    name: typeof error.name === 'string' ? error.name : 'Error',
    ...(typeof error.code === 'string' ? { code: error.code } : {}),
    message: typeof error.message === 'string' ? redactMessage(error.message) : '',
  }
  if (depth >= MAX_LOGGED_CAUSES) return summary
  if (Array.isArray(error.errors) && error.errors.length > 0) {
    summary.errors = error.errors.slice(0, MAX_LOGGED_GATHERED_ERRORS).map((each) => summarizeAt(each, depth + 1))
  }
  if (error.cause !== undefined) summary.cause = summarizeAt(error.cause, depth + 1)
  return summary
}

/**
 * Every code in an error's chain, outermost first, each once: the error's own, its causes', and those an
 * AggregateError gathered (older Node versions put a code on those alone).
 */
export function errorCodesOf(error: unknown): string[] {
  const codes = new Set<string>()
  const visit = (value: unknown, depth: number) => {
    if (!isErrorLike(value) || depth > MAX_LOGGED_CAUSES) return
    if (typeof value.code === 'string') codes.add(value.code)
    if (Array.isArray(value.errors)) for (const each of value.errors) visit(each, depth + 1)
    visit(value.cause, depth + 1)
  }
  visit(error, 0)
  return [...codes]
}

/** The innermost error of a chain: the one closest to what actually failed. */
export function rootCauseOf(error: unknown): unknown {
  let current = error
  for (let depth = 0; depth < MAX_LOGGED_CAUSES && isErrorLike(current) && current.cause !== undefined; depth++) current = current.cause
  return current
}

const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>()]+/gi

/**
 * A message safe to log: URLs keep their origin only, since a runtime may quote one whole, user:password@ and
 * `?token=` included (undici does, refusing a URL with credentials), and the text is cut at MAX_LOGGED_MESSAGE_LENGTH.
 */
export function redactMessage(message: string): string {
  const redacted = message.replace(URL_IN_TEXT, originOf)
  return redacted.length > MAX_LOGGED_MESSAGE_LENGTH ? `${redacted.slice(0, MAX_LOGGED_MESSAGE_LENGTH)}…` : redacted
}

/** A URL's scheme and host, with `/…` where something followed them that the message no longer shows. */
function originOf(text: string): string {
  try {
    const url = new URL(text)
    const origin = `${url.protocol}//${url.host}`
    return text === origin || text === `${origin}/` ? text : `${origin}/…`
  } catch {
    return '<url>'
  }
}

/**
 * The codes of a fetch failure (to Redis or to the dispatch endpoint) that come before anything is sent: no
 * address, no route, no listener, no TLS session. A timeout, a reset or a closed socket may come after the request
 * was written, and the other side may have run it.
 */
const UNSENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
])

/**
 * Whether a fetch failure certainly sent nothing: every code in its chain is one of UNSENT_CODES (workerd gives
 * none), or fetch refused to build the request at all (a URL with user:password@ in it).
 */
export function isUnsent(error: unknown): boolean {
  if (error instanceof TypeError && /^Request cannot be constructed/.test(error.message)) return true
  const codes = errorCodesOf(error)
  return codes.length > 0 && codes.every((code) => UNSENT_CODES.has(code))
}
