import { expect } from 'vitest'
import { DispatchEndpointError } from '../../src/client/index'

/** The DispatchEndpointError a client call rejected with, as a plain object of everything a caller can branch on. */
export async function endpointFailureOf(call: Promise<unknown>) {
  const error = await call.then(
    () => undefined,
    (reason: unknown) => reason,
  )
  if (!(error instanceof DispatchEndpointError)) throw new Error(`expected a DispatchEndpointError, got ${String(error)}`)
  const { name, message, status, errorName, field, retryAfter, outcome, attempts, idempotencyKey } = error
  return { name, message, status, errorName, field, retryAfter, outcome, attempts, idempotencyKey }
}

/** Any key the client made up for a call: a random UUID. */
export const CLIENT_KEY = expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)

/** A client's `sleep` that waits for nothing and keeps each wait it was asked for, in order, for a test to check. */
export function recordedWaits(): { sleep: (ms: number) => Promise<void>; waits: number[] } {
  const waits: number[] = []
  return {
    waits,
    sleep: async (ms) => {
      waits.push(ms)
    },
  }
}
