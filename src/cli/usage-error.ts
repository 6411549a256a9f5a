/** A command line that can never work: an unknown option, a missing value, `--data` that is not JSON. */
export class UsageError extends Error {
  override name = 'UsageError'
}
