import { ConfigError } from '../errors.js'

/**
 * Runs a function's start; a wrong setting throws its ConfigError with a one-line stack (`ConfigError: <each
 * variable and problem>`), since where in the code it was found says nothing the message does not: the runtime's
 * init error, and `serverless invoke local`, then show one line that names the variables (its fields stay readable).
 */
export function readAtStart<T>(start: () => T): T {
  try {
    return start()
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    error.stack = `${error.name}: ${error.message}`
    // The message names them all; printed beside it (util.inspect shows own enumerable fields), they would be lines more.
    Object.defineProperties(error, { variable: { enumerable: false }, problems: { enumerable: false } })
    throw error
  }
}
