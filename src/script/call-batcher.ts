import { decodeScriptReply, type ScriptOutcome, type ScriptPart } from './protocol.js'

/** How much one script call may carry; a part bigger than a limit still goes, alone. */
export interface CallLimits {
  /** Dispatches per call. @default 1000 */
  readonly dispatches: number
  /** Recipients checked one by one per call, which bounds how long one call holds Redis. @default 10000 */
  readonly checks: number
  /** Bytes of the request's JSON body, under Upstash's 10 MB request limit. @default 4194304 */
  readonly requestBytes: number
}

/** Sends dispatches, grouping those issued in the same tick into one script call. */
export interface CallBatcher {
  /**
   * Queues one part for the current call and resolves with its line of the reply, or rejects with the error
   * Redis gave it. `first` puts it ahead of the parts not yet sent: a part the last call had no room for.
   */
  send(part: ScriptPart, options?: { first?: boolean }): Promise<ScriptOutcome>
  /** Sends the open call now, and resolves once every call sent so far has settled, so a connection can close. */
  drain(): Promise<void>
}

interface Queued {
  readonly part: ScriptPart
  resolve(outcome: ScriptOutcome): void
  reject(error: unknown): void
}

interface Call {
  readonly head: ScriptPart
  readonly front: Queued[]
  readonly rest: Queued[]
  checks: number
  bytes: number
  sent: boolean
}

/**
 * Groups parts into script calls. Every call starts with a head built fresh for it (`newHead`): a new random
 * call key, so each dispatch without an id of its own is still applied once however often the transport retries
 * the call, and the current time.
 *
 * Parts issued in one synchronous run (a batch request, an SQS batch, `Promise.all` over many) share one call:
 * the call leaves two microtasks after its first part, as `@upstash/redis` auto-pipelining does.
 */
export function createCallBatcher(run: (keys: string[], args: string[]) => Promise<unknown>, newHead: () => ScriptPart, limits: CallLimits): CallBatcher {
  let open: Call | undefined
  const inFlight = new Set<Promise<unknown>>()

  function start(): Call {
    const head = newHead()
    const call: Call = { head, front: [], rest: [], checks: 0, bytes: head.bytes, sent: false }
    open = call
    queueMicrotask(() => queueMicrotask(() => flush(call)))
    return call
  }

  function fits(call: Call, part: ScriptPart): boolean {
    return (
      call.front.length + call.rest.length < limits.dispatches && call.checks + part.checks <= limits.checks && call.bytes + part.bytes <= limits.requestBytes
    )
  }

  function flush(call: Call): void {
    if (open === call) open = undefined
    // A call that filled up left early; the flush its start scheduled finds it sent.
    if (call.sent) return
    call.sent = true
    const queued = [...call.front, ...call.rest]
    const keys = [...call.head.keys]
    const args = [...call.head.args]
    for (const { part } of queued) {
      for (const key of part.keys) keys.push(key)
      for (const arg of part.args) args.push(arg)
    }
    const settled = run(keys, args).then(
      (reply) => {
        let lines: ReturnType<typeof decodeScriptReply>
        try {
          lines = decodeScriptReply(reply, queued.length)
        } catch (error) {
          for (const each of queued) each.reject(error)
          return
        }
        for (const [i, line] of lines.entries()) {
          if (line instanceof Error) queued[i]!.reject(line)
          else queued[i]!.resolve(line)
        }
      },
      (error: unknown) => {
        for (const each of queued) each.reject(error)
      },
    )
    inFlight.add(settled)
    void settled.finally(() => inFlight.delete(settled))
  }

  return {
    send(part, options = {}) {
      let call = open ?? start()
      if (call.front.length + call.rest.length > 0 && !fits(call, part)) {
        flush(call)
        call = start()
      }
      call.checks += part.checks
      call.bytes += part.bytes
      return new Promise<ScriptOutcome>((resolve, reject) => (options.first ? call.front : call.rest).push({ part, resolve, reject }))
    },
    async drain() {
      if (open) flush(open)
      await Promise.all(inFlight)
    },
  }
}
