import { summarizeError } from '../error-chain.js'
import type { LogFields } from './logger.js'

/**
 * The fields a log line gives a failure: `error` (its name), `detail` (its message), `code` when it has one, and
 * `cause`, its chain of causes down to what really failed (e.g. `{ name: 'Error', code: 'ECONNREFUSED', … }` under
 * undici's `fetch failed`), each as src/error-chain.ts summarizes it: no stack, no URL beyond its origin.
 */
export function describeError(error: unknown): LogFields {
  const { name, code, message, errors, cause } = summarizeError(error)
  return { error: name, detail: message, ...(code === undefined ? {} : { code }), ...(errors ? { errors } : {}), ...(cause ? { cause } : {}) }
}
