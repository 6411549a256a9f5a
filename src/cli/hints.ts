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
 * that answered 404 and says the endpoint is a base URL; this says which flag that is and where to find it. To a
 * failure after which the command may have been applied, it adds how to finish it: the same command with the
 * key every attempt carried as `--id`, which the endpoint then applies at most once.
 */
export function hintEndpointFailure(error: unknown): unknown {
  if (!(error instanceof DispatchEndpointError)) return error
  if (error.status === 404) return withHint(error, '--endpoint is that base URL, as serverless deploy prints it (the CLI adds the route).')
  if (error.outcome === 'none') return error
  const id = error.idempotencyKey === undefined ? 'the same --id' : `--id ${error.idempotencyKey}`
  const [what, goal] = error.outcome === 'partial' ? ['Part of it was applied', 'finish it'] : ['It may have been applied', 'apply it at most once']
  return withHint(error, `${what}: run the same command again with ${id} to ${goal}; no recipient gets it twice.`)
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
