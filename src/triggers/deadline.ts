import { DEADLINE_MARGIN_MS } from '../limits.js'

/** The end of the current invocation, for a transport that must finish every attempt before it. */
export interface InvocationDeadline {
  /** The epoch milliseconds by which Redis work must be over, or undefined outside an invocation. */
  readonly get: () => number | undefined
  /** Runs one invocation's work with the deadline set from the time the platform says is left. */
  run<T>(remainingMs: number, work: () => Promise<T>): Promise<T>
}

/**
 * A per-invocation deadline held in module scope. That is sound on Lambda, where one execution environment runs
 * one invocation at a time; at the edge, where requests interleave, none is set and plain timeouts apply.
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html
 */
export function createInvocationDeadline(marginMs = DEADLINE_MARGIN_MS): InvocationDeadline {
  let at: number | undefined
  return {
    get: () => at,
    async run(remainingMs, work) {
      at = Date.now() + remainingMs - marginMs
      try {
        return await work()
      } finally {
        at = undefined
      }
    },
  }
}
