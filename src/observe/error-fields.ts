import { summarizeError } from '../error-chain.js'
import { MesaDispatchError } from '../errors.js'
import type { LogFields } from './logger.js'

/**
 * The fields a log line gives a failure: `error` (its name), `detail` (its message), `outcome` (whether anything was
 * applied: `none`, `unknown` or `partial`, as the HTTP answer and the client say it), `code` when it has one, and
 * `cause`, its chain of causes down to what really failed (e.g. `{ name: 'Error', code: 'ECONNREFUSED', … }` under
 * undici's `fetch failed`), each as src/error-chain.ts summarizes it: no stack, no URL beyond its origin.
 */
export function describeError(error: unknown): LogFields {
  const { name, code, message, errors, cause } = summarizeError(error)
  // An error of no class of ours is a defect, which may have struck after something was applied.
  const outcome = error instanceof MesaDispatchError ? error.outcome : 'unknown'
  return { error: name, detail: message, outcome, ...(code === undefined ? {} : { code }), ...(errors ? { errors } : {}), ...(cause ? { cause } : {}) }
}
