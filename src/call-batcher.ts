import { decodeScriptReply, type ScriptOutcome, type ScriptPart } from './script-protocol'
import type { ScriptRunner } from './script-runner'

/** How much one script call may carry; a dispatch bigger than a limit still goes, alone. */
export interface CallLimits {
  /** Dispatches per call. @default 1000 */
  readonly dispatches: number
  /** Recipients checked one by one per call, which bounds how long one call holds Redis. @default 10000 */
  readonly checks: number
  /** Characters of arguments per call, well under Upstash's 10 MB request limit. @default 1000000 */
  readonly chars: number
}

/** The limits every Dispatcher uses. */
export const DEFAULT_CALL_LIMITS: CallLimits = { dispatches: 1000, checks: 10_000, chars: 1_000_000 }

/** How long a call's key (and so its reply) is kept: long enough to outlive the transport's retries of it. */
export const CALL_KEY_TTL_SECONDS = 120

/** Sends dispatches, grouping those issued in the same tick into one script call. */
export interface CallBatcher {
  /** Queues one dispatch for the current call and resolves with its own line of the reply. */
  send(part: ScriptPart): Promise<ScriptOutcome>
  /** Sends the open call now, and resolves once every call sent so far has settled, so a connection can close. */
  drain(): Promise<void>
}

interface Waiter {
  resolve(outcome: ScriptOutcome): void
  reject(error: unknown): void
}

interface Call {
  readonly keys: string[]
  readonly args: string[]
  readonly waiters: Waiter[]
  checks: number
  chars: number
  sent: boolean
}

/**
 * Groups dispatches into script calls. Every call gets a fresh random key, so each dispatch without an id of
 * its own is still applied once however often the transport retries the call.
 *
 * Dispatches issued in one synchronous run (a batch request, an SQS batch, `Promise.all` over many) share one
 * call: the call leaves two microtasks after its first dispatch, as `@upstash/redis` auto-pipelining does.
 */
export function createCallBatcher(runner: ScriptRunner, newCallKey: () => string, limits: CallLimits = DEFAULT_CALL_LIMITS): CallBatcher {
  let open: Call | undefined
  const inFlight = new Set<Promise<unknown>>()

  function start(): Call {
    const call: Call = { keys: [newCallKey()], args: [String(CALL_KEY_TTL_SECONDS)], waiters: [], checks: 0, chars: 0, sent: false }
    open = call
    queueMicrotask(() => queueMicrotask(() => flush(call)))
    return call
  }

  function fits(call: Call, part: ScriptPart): boolean {
    return (
      call.waiters.length < limits.dispatches &&
      call.checks + part.checks <= limits.checks &&
      call.chars + part.chars <= limits.chars
    )
  }

  function flush(call: Call): void {
    if (open === call) open = undefined
    // A call that filled up left early; the flush its start scheduled finds it sent.
    if (call.sent) return
    call.sent = true
    const { waiters } = call
    const settled = runner.run(call.keys, call.args).then(
      (reply) => {
        let lines
        try {
          lines = decodeScriptReply(reply, waiters.length)
        } catch (error) {
          for (const waiter of waiters) waiter.reject(error)
          return
        }
        lines.forEach((line, i) => (line instanceof Error ? waiters[i]!.reject(line) : waiters[i]!.resolve(line)))
      },
      (error: unknown) => {
        for (const waiter of waiters) waiter.reject(error)
      },
    )
    inFlight.add(settled)
    void settled.finally(() => inFlight.delete(settled))
  }

  return {
    send(part) {
      let call = open ?? start()
      if (call.waiters.length > 0 && !fits(call, part)) {
        flush(call)
        call = start()
      }
      for (const key of part.keys) call.keys.push(key)
      for (const arg of part.args) call.args.push(arg)
      call.checks += part.checks
      call.chars += part.chars
      return new Promise<ScriptOutcome>((resolve, reject) => call.waiters.push({ resolve, reject }))
    },
    async drain() {
      if (open) flush(open)
      await Promise.all(inFlight)
    },
  }
}
