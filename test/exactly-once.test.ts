import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import type { GatewayIntercept } from '../dev/upstash-gateway'
import { Dispatcher, type DispatcherConfig, IdempotencyConflictError, type IncompleteDispatchError, Message } from '../src/index'
import { recordChannel } from './support/channel-recorder'
import { useCleanup } from './support/cleanup'
import { useStack } from './support/stack'

// Exactly once for every caller (issue 18's defects 1 to 4, and a publish per part): a dispatch applied in parts
// keeps one id, which no caller's id, operation or namespace can share, which a different request cannot reuse, and
// whose failures say what may have happened. Against redis-server through the gateway, with faults in front of it.
let fault: GatewayIntercept | undefined
const stack = useStack({ intercept: (req, res) => fault?.(req, res) ?? false })
const open = useCleanup()
const note = (n: number, text = '') => new Message(0, text ? { n, text } : { n }, 'NOTE')
const frame = (n: number) => JSON.stringify({ op: 0, d: { n }, t: 'NOTE' })
const ids = Array.from({ length: 10 }, (_, i) => `user-${i}`)

/**
 * A namespace whose ten recipients each hold a backlog of about 18 KB, so that a dispatch to all of them goes in five
 * parts of two under a 50 KB write budget.
 */
async function fullBacklogs(config: DispatcherConfig = {}, connection = stack.connection) {
  const namespace = stack.freshNamespace()
  const settings = { namespace, sync: { enabled: true, maxBytes: 20_000 }, maxWriteBytes: 50_000, ...config }
  const dispatcher = new Dispatcher(connection, settings)
  for (const id of ids) await stack.dispatcher(settings).dispatch(note(0, 'x'.repeat(18_000)), [id])
  const hash = `undelivered_messages_${namespace}`
  /** How many times each recipient's backlog holds the message `n`. */
  const copies = async (n: number) => Promise.all(ids.map(async (id) => (await stack.admin.hget(hash, id))!.split(frame(n)).length - 1))
  return { namespace, dispatcher, hash, copies }
}

/** Lets the first `passing` requests through to Redis, then answers every later one 503 itself, forwarding nothing. */
function failAfter(passing: number): void {
  let passed = 0
  fault = (_req, res) => {
    if (++passed <= passing) return false
    res.writeHead(503).end()
    return true
  }
}

const failureOf = (sent: Promise<unknown>) =>
  sent.then(
    () => undefined,
    (error: unknown) => error,
  )

describe('ids no caller can collide with', () => {
  it("keeps a dispatch in parts apart from a caller's id that names one of its parts, as `<id>#2` did", async () => {
    const { dispatcher, copies } = await fullBacklogs()
    await dispatcher.dispatch(note(9), ['bystander'], undefined, { id: 'hash#2' })

    const result = await dispatcher.dispatch(note(1), ids, undefined, { id: 'hash' })

    expect({ stored: result.stored, duplicate: result.duplicate, copies: await copies(1) }).toEqual({ stored: 10, duplicate: false, copies: Array(10).fill(1) })
  })

  it("gives dispatches and clears ids of their own: a clear's key does not make a later dispatch a duplicate", async () => {
    const { namespace, dispatcher } = stack.freshDispatcher()
    await dispatcher.clearBacklog(['someone'], { id: 'evt-42' })

    const result = await dispatcher.dispatch(note(1), ['someone'], undefined, { id: 'evt-42' })

    expect({ duplicate: result.duplicate, stored: await stack.admin.hget(`undelivered_messages_${namespace}`, 'someone') }).toEqual({
      duplicate: false,
      stored: `[${frame(1)}]`,
    })
  })

  it('tells namespaces apart whatever they and the ids hold: p14 with x:order-17, and p14:x with order-17', async () => {
    const base = stack.freshNamespace()
    const [first, second] = [`${base}`, `${base}:x`].map((namespace) => stack.dispatcher({ namespace, sync: { enabled: true } }))

    const results = [
      await first!.dispatch(note(1), ['someone'], undefined, { id: 'x:order-17' }),
      await second!.dispatch(note(2), ['someone'], undefined, { id: 'order-17' }),
    ]

    expect({
      duplicates: results.map((result) => result.duplicate),
      stored: [await stack.admin.hget(`undelivered_messages_${base}`, 'someone'), await stack.admin.hget(`undelivered_messages_${base}:x`, 'someone')],
    }).toEqual({ duplicates: [false, false], stored: [`[${frame(1)}]`, `[${frame(2)}]`] })
  })
})

describe('an id reused for another request', () => {
  it('is refused with a conflict, applying nothing, when a retry after a failure between parts reorders the recipients', async () => {
    const { dispatcher, hash, copies } = await fullBacklogs()
    failAfter(1)
    const interrupted = await failureOf(dispatcher.dispatch(note(1), ids, undefined, { id: 'order' }))
    fault = undefined
    const before = await stack.admin.hgetall(hash)

    const reordered = await failureOf(dispatcher.dispatch(note(1), ids.toReversed(), undefined, { id: 'order' }))

    expect({ interrupted: (interrupted as Error).name, reordered, outcome: (reordered as IdempotencyConflictError).outcome }).toEqual({
      interrupted: 'IncompleteDispatchError',
      reordered: new IdempotencyConflictError('order'),
      outcome: 'none',
    })
    expect(await stack.admin.hgetall(hash)).toEqual(before)
    // The same request again resumes where the first stopped: everyone has it once.
    expect(await dispatcher.dispatch(note(1), ids, undefined, { id: 'order' })).toMatchObject({ stored: 8, duplicate: false })
    expect(await copies(1)).toEqual(Array(10).fill(1))
  })

  it('is refused for another message to the same recipients, and answered as a duplicate for the same one', async () => {
    const { dispatcher } = stack.freshDispatcher()
    await dispatcher.dispatch(note(1), ['a', 'b'], undefined, { id: 'same' })

    const [again, other] = [
      await dispatcher.dispatch(note(1), ['a', 'b'], undefined, { id: 'same' }),
      await failureOf(dispatcher.dispatch(note(2), ['a', 'b'], undefined, { id: 'same' })),
    ]

    expect({ again: again.duplicate, other }).toEqual({ again: true, other: new IdempotencyConflictError('same') })
  })
})

describe('a dispatch that fails between its parts', () => {
  it('says, when it had no id, that sending it again would reach the others twice', async () => {
    const { dispatcher } = await fullBacklogs()
    failAfter(1)
    const failure = (await failureOf(dispatcher.dispatch(note(1), ids))) as IncompleteDispatchError
    fault = undefined

    expect({ name: failure.name, outcome: failure.outcome, id: failure.id, message: failure.message }).toEqual({
      name: 'IncompleteDispatchError',
      outcome: 'partial',
      id: undefined,
      message:
        'Redis failed after part of the dispatch was applied: 2 recipients were reached, 8 may not have been; it had no id, so sending it again would reach the others twice: give a dispatch an id to finish it safely',
    })
  })

  it('counts, when a retry fails again, every recipient its parts reached, those of the first call included', async () => {
    const { dispatcher, copies } = await fullBacklogs()
    failAfter(1)
    await failureOf(dispatcher.dispatch(note(1), ids, undefined, { id: 'twice-failed' }))
    // The retry's first request learns where the dispatch stopped, its second applies a part, its third fails.
    failAfter(2)
    const again = (await failureOf(dispatcher.dispatch(note(1), ids, undefined, { id: 'twice-failed' }))) as IncompleteDispatchError
    fault = undefined

    expect({ reached: again.reached, remaining: again.remaining, progress: again.progress, copies: await copies(1) }).toEqual({
      reached: 4,
      remaining: ids.slice(4),
      progress: 'Redis failed after part of the dispatch was applied: 4 recipients were reached, 6 may not have been',
      copies: [1, 1, 1, 1, 0, 0, 0, 0, 0, 0],
    })
  })

  it('says after a timeout that the rest may not have been reached, and the same id then finishes what Redis ran late', async () => {
    const { dispatcher, hash, copies } = await fullBacklogs({}, { ...stack.connection, timeoutMs: 400, retries: 0 })
    // The second part reaches Redis while it is paused for writes: the call times out, and Redis runs it after.
    let passed = 0
    fault = async () => {
      if (++passed === 2) await stack.admin.client('PAUSE', '1500', 'WRITE')
      return false
    }
    const failure = (await failureOf(dispatcher.dispatch(note(1), ids, undefined, { id: 'paused' }))) as IncompleteDispatchError
    fault = undefined

    expect({ name: failure.name, outcome: failure.outcome, id: failure.id, cause: (failure.cause as Error).name, message: failure.message }).toEqual({
      name: 'IncompleteDispatchError',
      outcome: 'partial',
      id: 'paused',
      cause: 'RedisUnavailableError',
      message:
        'Redis failed after part of the dispatch was applied: 2 recipients were reached, 8 may not have been; send it again with the id "paused" to finish it: no recipient gets it twice',
    })
    // Redis runs the held part once the pause ends: 4 of 10 have it, where the error could only say "may not".
    for (let waited = 0; (await copies(1)).filter(Boolean).length < 4 && waited < 100; waited++) await sleep(50)
    expect(await copies(1)).toEqual([1, 1, 1, 1, 0, 0, 0, 0, 0, 0])

    const finished = await dispatcher.dispatch(note(1), ids, undefined, { id: 'paused' })

    expect({ stored: finished.stored, offline: finished.offline, copies: await copies(1) }).toEqual({
      stored: 6,
      offline: ids.slice(4),
      copies: Array(10).fill(1),
    })
    expect(await stack.admin.hlen(hash)).toBe(10)
  })
})

describe('a dispatch applied in parts', () => {
  it('publishes once when no part reaches anyone online, as Mesa does, and a later part only when it reaches someone', async () => {
    const { namespace, dispatcher } = await fullBacklogs()
    const recorder = open(await recordChannel(stack.redis.url, `ws_${namespace}`))

    const nobody = await dispatcher.dispatch(note(1), ids)
    await stack.admin.sadd(`connected_clients_${namespace}`, 'user-5')
    const one = await dispatcher.dispatch(note(2), ids)
    // Redis delivers in publish order: once our own fence arrives, every publish of the dispatches has.
    await stack.admin.publish(`ws_${namespace}`, 'fence')
    while (!recorder.messages.includes('fence')) await recorder.waitFor(recorder.messages.length + 1)
    const published = recorder.messages.slice(0, recorder.messages.indexOf('fence'))

    expect({ parts: [nobody.stored, one.stored], published }).toEqual({
      parts: [10, 9],
      published: [`{"message":${frame(1)},"recipients":[]}`, `{"message":${frame(2)},"recipients":[]}`, `{"message":${frame(2)},"recipients":["user-5"]}`],
    })
  })
})
