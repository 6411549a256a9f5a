import { describe, expect, it } from 'vitest'
import { DispatchCore } from '../src/core/dispatcher'
import { Message, RateLimitedError, ValidationError } from '../src/index'
import { MAX_CHECKS_PER_CALL } from '../src/limits'
import { awayFromWindowEnd, secondsToWindowEnd } from './support/rate-window'
import { useStack } from './support/stack'

// The Dispatcher's rateLimit option, which the HTTP app gives each key's requests: counted by Redis in the call that
// does the work, a batch admitted or refused whole even when it needs more than one script call.
const stack = useStack()
const DAY = 86_400
const note = new Message(0, { text: 'limited' }, 'NOTE')

/** The outcome of a promise as data: the value, or the error's name and the fields a caller reads. */
async function settle<T>(promise: Promise<T>) {
  try {
    return { value: await promise }
  } catch (error) {
    if (error instanceof RateLimitedError) return { error: error.name, key: error.keyName, retryAfter: error.retryAfterSeconds }
    if (error instanceof ValidationError) return { error: error.name, field: error.field, message: error.message }
    throw error
  }
}

describe('a rate limit on the Dispatcher', () => {
  it('admits `requests` calls per window and refuses the next with the seconds until the window ends, applying nothing', async () => {
    await awayFromWindowEnd(DAY)
    const { dispatcher, hash } = stack.freshDispatcher()
    const rateLimit = { name: 'lib', requests: 2, windowSeconds: DAY }
    const outcomes = []
    for (let i = 0; i < 3; i++) outcomes.push(await settle(dispatcher.dispatch(note, ['someone'], undefined, { rateLimit })))
    const left = secondsToWindowEnd(DAY)
    expect(outcomes.slice(0, 2).every((outcome) => 'value' in outcome)).toBe(true)
    expect(outcomes[2]).toEqual({ error: 'RateLimitedError', key: 'lib', retryAfter: expect.closeTo(left, 0) })
    expect(JSON.parse((await stack.admin.hget(hash, 'someone'))!)).toHaveLength(2)
  })

  it('admits a batch that needs two script calls whole, and refuses the next whole, sending none of its second call', async () => {
    await awayFromWindowEnd(DAY)
    const { dispatcher, hash } = stack.freshDispatcher()
    await stack.loadScripts()
    const rateLimit = { name: 'wide', requests: 3, windowSeconds: DAY }
    // Each dispatch checks half a call's worth of recipients, so three of them need two calls.
    const crowd = Array.from({ length: MAX_CHECKS_PER_CALL / 2 }, (_, i) => `crowd-${i}`)
    const batch = () => [0, 1, 2].map(() => ({ event: note, recipients: crowd }))
    let admitted: PromiseSettledResult<unknown>[] = []
    const admittedRequests = await stack.requestsDuring(async () => {
      admitted = await dispatcher.dispatchMany(batch(), { rateLimit })
    })
    let refused: PromiseSettledResult<unknown>[] = []
    const refusedRequests = await stack.requestsDuring(async () => {
      refused = await dispatcher.dispatchMany(batch(), { rateLimit })
    })
    expect({
      admitted: admitted.map((each) => each.status),
      admittedRequests,
      refused: refused.map((each) => (each.status === 'rejected' ? (each.reason as Error).name : each.status)),
      refusedRequests,
      stored: JSON.parse((await stack.admin.hget(hash, 'crowd-0'))!).length,
    }).toEqual({
      admitted: ['fulfilled', 'fulfilled', 'fulfilled'],
      admittedRequests: 2,
      refused: ['RateLimitedError', 'RateLimitedError', 'RateLimitedError'],
      refusedRequests: 1,
      stored: 3,
    })
  })

  it('does not count a refused request: a smaller one still fits what the window has left', async () => {
    await awayFromWindowEnd(DAY)
    const { dispatcher } = stack.freshDispatcher()
    const rateLimit = { name: 'left', requests: 3, windowSeconds: DAY }
    const two = () => dispatcher.dispatchMany([{ event: note }, { event: note }], { rateLimit })
    const statuses = async (promise: Promise<PromiseSettledResult<unknown>[]>) => (await promise).map((each) => each.status)
    expect([await statuses(two()), await statuses(two()), (await settle(dispatcher.dispatch(note, ['*'], undefined, { rateLimit }))).error]).toEqual([
      ['fulfilled', 'fulfilled'],
      ['rejected', 'rejected'],
      undefined,
    ])
  })

  it.each([
    [{ name: 'has:colon', requests: 1, windowSeconds: 1 }, 'rateLimit.name', 'rateLimit.name must be 1-64 characters of A-Z a-z 0-9 _ . -'],
    [{ name: 'ok', requests: 0, windowSeconds: 1 }, 'rateLimit.requests', 'rateLimit.requests must be an integer from 1 to 1000000000'],
    [{ name: 'ok', requests: 1, windowSeconds: 86_401 }, 'rateLimit.windowSeconds', 'rateLimit.windowSeconds must be an integer from 1 to 86400'],
  ])('refuses the rate limit %j, naming the field, before any request', async (rateLimit, field, message) => {
    const { dispatcher } = stack.freshDispatcher()
    let outcome: unknown
    const requests = await stack.requestsDuring(async () => {
      outcome = await settle(dispatcher.presence(['a'], { rateLimit }))
    })
    expect({ outcome, requests }).toEqual({ outcome: { error: 'ValidationError', field, message }, requests: 0 })
  })

  it('is refused, never ignored, by the dispatching core the SQS and EventBridge functions build, which counts none', async () => {
    const namespace = stack.freshNamespace()
    const core = new DispatchCore(stack.connection, { namespace, sync: { enabled: true } })
    let outcome: unknown
    const requests = await stack.requestsDuring(async () => {
      outcome = await settle(core.dispatch(note, ['someone'], undefined, { rateLimit: { name: 'core', requests: 1, windowSeconds: DAY } }))
    })
    expect({ outcome, requests, stored: await stack.admin.hget(`undelivered_messages_${namespace}`, 'someone') }).toEqual({
      outcome: { error: 'ValidationError', field: 'rateLimit', message: 'rateLimit is not counted by a DispatchCore: use a Dispatcher' },
      requests: 0,
      stored: null,
    })
  })
})
