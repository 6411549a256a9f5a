import { DispatchEndpointError, RedisCommandError } from '../errors.js'

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
 * Adds what the user most likely got wrong to a 404 from `--endpoint`: the client's message already names the URL
 * that answered 404 and says the endpoint is a base URL; this says which flag that is and where to find it.
 */
export function hintEndpointFailure(error: unknown): unknown {
  if (!(error instanceof DispatchEndpointError) || error.status !== 404) return error
  return withHint(error, '--endpoint is that base URL, as serverless deploy prints it (the CLI adds the route).')
}

/**
 * A REST URL that answers 404 or 405 is not an Upstash REST API: most often the dispatch endpoint (or the dev
 * console, which answers `use GET`) given to `--rest-url`, whose own flag is `--endpoint`.
 */
export function hintRestFailure(error: unknown): unknown {
  if (!(error instanceof RedisCommandError) || (error.status !== 404 && error.status !== 405)) return error
  return withHint(
    error,
    '--rest-url is the Upstash REST URL of the Redis the Mesa servers use (UPSTASH_REDIS_REST_URL); for the dispatch endpoint, pass its base URL as --endpoint, with --token or --secret.',
  )
}
