import { ConfigError, DispatchEndpointError, RedisCommandError, RedisUnavailableError, ValidationError } from '../errors.js'
import { UsageError } from './usage-error.js'

/** The CLI's exit codes, so scripts can tell a mistake of theirs from an outage worth retrying. */
export const EXIT_CODES = {
  /** The dispatch was applied. */
  ok: 0,
  /** Anything not covered below, e.g. Redis refusing the script (502). */
  failed: 1,
  /** Bad input: usage errors, --data that is not JSON, a 400 or 413 from the endpoint, a ValidationError or ConfigError. */
  badInput: 2,
  /** Credentials refused: a 401 or 403 from the endpoint, or Redis refusing the REST token. */
  auth: 3,
  /** Unreachable: a network error, a timeout, a 503 or a RedisUnavailableError; retrying later may work. */
  unreachable: 4,
} as const

/** The exit code a failure ends the CLI with. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError || error instanceof ValidationError || error instanceof ConfigError) return EXIT_CODES.badInput
  if (error instanceof DispatchEndpointError) {
    if (error.status === 400 || error.status === 413) return EXIT_CODES.badInput
    if (error.status === 401 || error.status === 403) return EXIT_CODES.auth
    if (error.status === 0 || error.status === 503) return EXIT_CODES.unreachable
    return EXIT_CODES.failed
  }
  if (error instanceof RedisCommandError && (error.status === 401 || error.status === 403)) return EXIT_CODES.auth
  if (error instanceof RedisUnavailableError) return EXIT_CODES.unreachable
  return EXIT_CODES.failed
}
