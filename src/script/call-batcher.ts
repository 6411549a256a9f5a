import { decodeScriptReply, type ScriptCharge, type ScriptLine, type ScriptOutcome, type ScriptPart } from './protocol.js'

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
 * Where a charge stands: `sent` in a call not yet answered (parts of it that went to later calls wait for that
 * answer), then `admitted` (later parts go uncharged), `limited` (they are refused), or `failed` with the call.
 */
type ChargeState = { status: 'sent'; call: Call; waiting: Queued[] } | { status: 'admitted' } | { status: 'limited' } | { status: 'failed'; error: unknown }

/**
 * Groups parts into script calls. Every call starts with a head built fresh for it (`newHead`): a new random
 * call key, so each dispatch without an id of its own is still applied once however often the transport retries
 * the call, and the current time.
 *
 * Parts issued in one synchronous run (a batch request, an SQS batch, `Promise.all` over many) share one call:
 * the call leaves two microtasks after its first part, as `@upstash/redis` auto-pipelining does.
 *
 * A charge (a request counted against a rate limit) goes in the first call that carries one of its parts. Its parts
 * that did not fit in that call wait for its answer, so that none of them is applied unless the charge is.
 */
export function createCallBatcher(run: (keys: string[], args: string[]) => Promise<unknown>, newHead: () => ScriptPart, limits: CallLimits): CallBatcher {
  let open: Call | undefined
  const inFlight = new Set<Promise<unknown>>()
  const charges = new WeakMap<ScriptCharge, ChargeState>()

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

  /** Sorts a call's parts by their charges: those it sends (with the charge's number in the call, 0 for none), and the rest. */
  function admit(call: Call, queued: Queued[]): { sending: Array<[Queued, number]>; carried: ScriptCharge[] } {
    const sending: Array<[Queued, number]> = []
    const carried: ScriptCharge[] = []
    for (const each of queued) {
      const { charge } = each.part
      const state = charge && charges.get(charge)
      if (!charge || state?.status === 'admitted') sending.push([each, 0])
      else if (!state) {
        charges.set(charge, { status: 'sent', call, waiting: [] })
        sending.push([each, carried.push(charge)])
      } else if (state.status === 'sent' && state.call === call) sending.push([each, carried.indexOf(charge) + 1])
      else if (state.status === 'sent') state.waiting.push(each)
      else if (state.status === 'limited') each.resolve({ kind: 'limited' })
      else each.reject(state.error)
    }
    return { sending, carried }
  }

  /** Records what became of the call's charges, and sends or settles the parts that waited for them. */
  function settleCharges(carried: ScriptCharge[], sending: Array<[Queued, number]>, lines: ScriptLine[] | undefined, error: unknown): void {
    carried.forEach((charge, index) => {
      const state = charges.get(charge)
      const waiting = state?.status === 'sent' ? state.waiting : []
      const limited = lines?.some((line, at) => sending[at]![1] === index + 1 && !(line instanceof Error) && line.kind === 'limited')
      const next: ChargeState = !lines ? { status: 'failed', error } : limited ? { status: 'limited' } : { status: 'admitted' }
      charges.set(charge, next)
      for (const each of waiting) {
        if (next.status === 'admitted') send(each.part, { first: true }).then(each.resolve, each.reject)
        else if (next.status === 'limited') each.resolve({ kind: 'limited' })
        else each.reject(error)
      }
    })
  }

  function flush(call: Call): void {
    if (open === call) open = undefined
    // A call that filled up left early; the flush its start scheduled finds it sent.
    if (call.sent) return
    call.sent = true
    const { sending, carried } = admit(call, [...call.front, ...call.rest])
    if (sending.length === 0) return
    const keys = [...call.head.keys]
    const args = [...call.head.args, String(carried.length)]
    for (const charge of carried) keys.push(charge.key)
    for (const charge of carried) args.push(charge.spec)
    // Each part's arguments are copied as whole arrays, not pushed one by one: a part holds one argument per
    // recipient, and a push each cost a 1,000-recipient dispatch about 35 µs in its first few dozen calls.
    const keyLists: string[][] = [keys]
    const argLists: string[][] = [args]
    for (const [{ part }, charge] of sending) {
      keyLists.push(part.keys)
      argLists.push(charge > 0 ? [`${part.args[0]}@${charge}`, ...part.args.slice(1)] : part.args)
    }
    const settled = run(concatAll(keyLists), concatAll(argLists)).then(
      (reply) => {
        let lines: ScriptLine[]
        try {
          lines = decodeScriptReply(reply, sending.length)
        } catch (error) {
          settleCharges(carried, sending, undefined, error)
          for (const [each] of sending) each.reject(error)
          return
        }
        settleCharges(carried, sending, lines, undefined)
        for (const [i, line] of lines.entries()) {
          if (line instanceof Error) sending[i]![0].reject(line)
          else sending[i]![0].resolve(line)
        }
      },
      (error: unknown) => {
        settleCharges(carried, sending, undefined, error)
        for (const [each] of sending) each.reject(error)
      },
    )
    inFlight.add(settled)
    void settled.finally(() => inFlight.delete(settled))
  }

  function send(part: ScriptPart, options: { first?: boolean } = {}): Promise<ScriptOutcome> {
    let call = open ?? start()
    if (call.front.length + call.rest.length > 0 && !fits(call, part)) {
      flush(call)
      call = start()
    }
    call.checks += part.checks
    call.bytes += part.bytes
    return new Promise<ScriptOutcome>((resolve, reject) => (options.first ? call.front : call.rest).push({ part, resolve, reject }))
  }

  return {
    send,
    async drain() {
      // Parts that waited for a charge are sent when its call is answered: drain until nothing is left.
      while (open || inFlight.size > 0) {
        if (open) flush(open)
        await Promise.all(inFlight)
      }
    },
  }
}

/** The lists one after another, in one new array. */
function concatAll(lists: string[][]): string[] {
  return lists.length === 1 ? lists[0]! : lists[0]!.concat(...lists.slice(1))
}
