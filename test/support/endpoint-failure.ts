import { DispatchEndpointError } from '../../src/client/index'

/** The DispatchEndpointError a client call rejected with, as a plain object of everything a caller can branch on. */
export async function endpointFailureOf(call: Promise<unknown>) {
  const error = await call.then(
    () => undefined,
    (reason: unknown) => reason,
  )
  if (!(error instanceof DispatchEndpointError)) throw new Error(`expected a DispatchEndpointError, got ${String(error)}`)
  const { name, message, status, errorName, field, retryAfter } = error
  return { name, message, status, errorName, field, retryAfter }
}
