import { DispatchEndpointError } from '../errors.js'

/** Advice printed under an error, kept beside it rather than in its message, which stays the library's own. */
const hints = new WeakMap<object, string>()

/** Attaches `hint` to `error` for formatError to print, and returns the error. */
export function withHint<T>(error: T, hint: string): T {
  if (typeof error === 'object' && error !== null) hints.set(error, hint)
  return error
}

/** The hint attached to an error, if any. */
export function hintOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null ? hints.get(error) : undefined
}

/**
 * Adds what the user most likely got wrong to a failure of a call to `--endpoint`: a 404 means no dispatch
 * function answers at the URL the CLI built from it, so it says that `--endpoint` is the base URL and which URL
 * was tried (its origin and path: never credentials or a query).
 */
export function hintEndpointFailure(error: unknown, endpoint: string, path: string): unknown {
  if (!(error instanceof DispatchEndpointError) || error.status !== 404) return error
  let tried = 'the URL it built'
  try {
    const url = new URL(`${endpoint.replace(/\/+$/, '').replace(/\/dispatch$/, '')}${path}`)
    tried = `${url.origin}${url.pathname}`
  } catch {
    // the client accepted the endpoint, so this parses; never echo the raw text, which may hold credentials
  }
  return withHint(
    error,
    `--endpoint is the base URL that serves /dispatch and /health (as serverless deploy prints it), to which the CLI adds ${path}; ${tried} answered 404.`,
  )
}
