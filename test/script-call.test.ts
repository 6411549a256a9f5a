import { Redis as NodeRedis } from '@upstash/redis'
import { Redis as CloudflareRedis } from '@upstash/redis/cloudflare'
import { describe, expect, it } from 'vitest'
import { createMesaKeys } from '../src/core/keys'
import { Dispatcher, Message, type ValidationError } from '../src/index'
import { recordChannel } from './support/channel-recorder'
import { useCleanup } from './support/cleanup'
import { useStack } from './support/stack'

// Dispatches issued together share one script call, through the gateway against a real redis-server;
// test/call-batcher.test.ts has the batcher alone, and test/fuzz-script-call.test.ts the property.
const stack = useStack()
const open = useCleanup()

const setup = (sync?: boolean) => stack.freshDispatcher(sync)
const note = (n: number) => new Message(0, { n }, 'NOTE')

describe('one script call per tick', () => {
  it('carries every dispatch issued together in one request, each with its own result', async () => {
    const { namespace, dispatcher } = setup()
    await stack.admin.sadd(`connected_clients_${namespace}`, 'on')
    await dispatcher.dispatch(note(0), ['warm-up'])
    const recorder = open(await recordChannel(stack.redis.url, `ws_${namespace}`))

    let results: Awaited<ReturnType<Dispatcher['dispatch']>>[] = []
    const requests = await stack.requestsDuring(async () => {
      results = await Promise.all([dispatcher.dispatch(note(1), ['on', 'off']), dispatcher.dispatch(note(2), ['*']), dispatcher.dispatch(note(3), ['off'])])
    })

    expect({ requests, results: results.map(({ recipients, offline, stored }) => ({ recipients, offline, stored })) }).toEqual({
      requests: 1,
      results: [
        { recipients: ['on'], offline: ['off'], stored: 1 },
        { recipients: ['*'], offline: [], stored: 0 },
        { recipients: [], offline: ['off'], stored: 1 },
      ],
    })
    // Applied in the order they were issued.
    expect((await recorder.waitFor(3)).map((payload) => JSON.parse(payload).message.d.n)).toEqual([1, 2, 3])
  })

  it.each([
    ['1,001 dispatches: at most 1,000 per call', 1001, 1, false, 2],
    ['three dispatches checking 5,000 recipients each: at most 10,000 checks per call', 3, 5000, true, 2],
  ])('splits a tick into more calls past the limits: %s', async (_, count, recipients, sync, expected) => {
    const { dispatcher } = setup(sync)
    await dispatcher.dispatch(note(0), ['warm-up'])
    const ids = Array.from({ length: recipients }, (_, i) => `u${i}`)
    let settled: unknown[] = []
    const requests = await stack.requestsDuring(async () => {
      settled = await Promise.all(Array.from({ length: count }, (_, n) => dispatcher.dispatch(note(n), ids)))
    })
    expect({ requests, settled: settled.length }).toEqual({ requests: expected, settled: count })
  })

  it('splits a tick where the next dispatch would take the request past MAX_REQUEST_BYTES', async () => {
    const dispatcher = stack.dispatcher({ namespace: stack.freshNamespace(), maxRequestBytes: 1_000_000 })
    await dispatcher.dispatch(note(0), ['warm-up'])
    const big = new Message(0, { text: 'x'.repeat(400_000) }, 'BIG')
    expect(await stack.requestsDuring(() => Promise.all([1, 2, 3].map(() => dispatcher.dispatch(big, ['a']))))).toBe(2)
  })

  it('fails only the dispatch Redis refuses, and applies the others of the same call', async () => {
    const { namespace, dispatcher, hash } = setup()
    await stack.admin.sadd(`connected_clients_${namespace}`, 'on')
    await stack.admin.hset(createMesaKeys(namespace).idempotency('dispatch', 'bad'), 'not', 'a string')
    const recorder = open(await recordChannel(stack.redis.url, `ws_${namespace}`))

    const settled = await Promise.allSettled([
      dispatcher.dispatch(note(1), ['on', 'off']),
      dispatcher.dispatch(note(2), ['on', 'off'], undefined, { id: 'bad' }),
      dispatcher.dispatch(note(3), ['on', 'off'], undefined, { id: 'good' }),
    ])

    expect(settled.map((each) => (each.status === 'fulfilled' ? 'sent' : (each.reason as Error).name))).toEqual(['sent', 'RedisCommandError', 'sent'])
    expect(((settled[1] as PromiseRejectedResult).reason as Error).message).toMatch(/^Redis answered an error: WRONGTYPE /)
    expect({ published: await recorder.waitFor(2), stored: await stack.admin.hget(hash, 'off') }).toEqual({
      published: [1, 3].map((n) => `{"message":{"op":0,"d":{"n":${n}},"t":"NOTE"},"recipients":["on"]}`),
      stored: '[{"op":0,"d":{"n":1},"t":"NOTE"},{"op":0,"d":{"n":3},"t":"NOTE"}]',
    })
  })

  it('appends every dispatch of one call to an array stored before it, in order', async () => {
    const { dispatcher, hash } = setup()
    await stack.admin.hset(hash, 'off', '[{"op":0,"d":"old"}]', 'other', 'not json')
    const results = await Promise.all([1, 2, 3].map((n) => dispatcher.dispatch(note(n), n === 2 ? ['off', 'other'] : ['off'])))
    expect({ stored: results.map((result) => result.stored), values: await stack.admin.hgetall(hash) }).toEqual({
      stored: [1, 2, 1],
      values: {
        off: '[{"op":0,"d":"old"},{"op":0,"d":{"n":1},"t":"NOTE"},{"op":0,"d":{"n":2},"t":"NOTE"},{"op":0,"d":{"n":3},"t":"NOTE"}]',
        other: '[{"op":0,"d":{"n":2},"t":"NOTE"}]',
      },
    })
  })

  it('applies an id named twice in one call once: the same dispatch answers as a duplicate, another is refused as a conflict', async () => {
    const { namespace, dispatcher } = setup(false)
    const recorder = open(await recordChannel(stack.redis.url, `ws_${namespace}`))
    const settled = await Promise.allSettled([
      dispatcher.dispatch(note(1), ['a'], undefined, { id: 'twice' }),
      dispatcher.dispatch(note(1), ['a'], undefined, { id: 'twice' }),
      dispatcher.dispatch(note(2), ['a'], undefined, { id: 'twice' }),
    ])
    expect(settled.map((each) => (each.status === 'fulfilled' ? { duplicate: each.value.duplicate } : { error: (each.reason as Error).name }))).toEqual([
      { duplicate: false },
      { duplicate: true },
      { error: 'IdempotencyConflictError' },
    ])
    expect(await recorder.waitFor(1)).toEqual(['{"message":{"op":0,"d":{"n":1},"t":"NOTE"},"recipients":["a"]}'])
  })

  it("keeps the call's reply for two minutes under its own key, which a retry of the call would read", async () => {
    const { namespace, dispatcher } = setup(false)
    await Promise.all([dispatcher.dispatch(note(1), ['a']), dispatcher.dispatch(note(2), ['b'], undefined, { id: 'x' })])
    const [callKey] = await stack.admin.keys(`mesa_dispatch_call:${namespace.length}:${namespace}:*`)
    const ttl = await stack.admin.ttl(callKey!)
    expect({ reply: await stack.admin.get(callKey!), ttlWithinTwoMinutes: ttl > 110 && ttl <= 120 }).toEqual({
      reply: 'n0:0:0:\nn0:0:0:',
      ttlWithinTwoMinutes: true,
    })
  })
})

describe('dispatchMany', () => {
  it('sends every dispatch in one request and settles each alone, in order', async () => {
    const { dispatcher } = setup()
    // Sent before, so the same dispatch again is a duplicate.
    await dispatcher.dispatch(note(2), ['*'], undefined, { id: 'bad' })
    let settled: PromiseSettledResult<unknown>[] = []
    const requests = await stack.requestsDuring(async () => {
      settled = await dispatcher.dispatchMany([
        { event: note(1), recipients: ['a'] },
        { event: note(2), options: { id: 'bad' } },
        { event: note(3), recipients: ['b'], excluding: ['b'] },
      ])
    })
    expect({ requests, settled: settled.map((each) => each.status === 'fulfilled' && (each.value as { duplicate: boolean }).duplicate) }).toEqual({
      requests: 1,
      settled: [false, true, false],
    })
  })

  it('refuses them all before sending anything when one is invalid, naming it', async () => {
    const { dispatcher } = setup()
    let failure: unknown
    const requests = await stack.requestsDuring(async () => {
      failure = await dispatcher.dispatchMany([{ event: note(1) }, { event: note(2), recipients: [{} as never] }]).catch((error: unknown) => error)
    })
    expect({ requests, name: (failure as Error).name, field: (failure as ValidationError).field }).toEqual({
      requests: 0,
      name: 'ValidationError',
      field: 'dispatches[1].recipients[0]',
    })
  })
})

describe("a caller's own @upstash/redis client", () => {
  it.each([
    ['the main entry', (url: string, token: string) => new NodeRedis({ url, token })],
    ['the Cloudflare entry', (url: string, token: string) => new CloudflareRedis({ url, token })],
  ])('is used as given when it comes from %s, in one request per call', async (_, create) => {
    const namespace = stack.freshNamespace()
    const dispatcher = new Dispatcher(create(stack.connection.url, stack.connection.token), { namespace, sync: { enabled: true } })
    await dispatcher.dispatch(note(0), ['warm-up'])
    let results: Awaited<ReturnType<Dispatcher['dispatch']>>[] = []
    const requests = await stack.requestsDuring(async () => {
      results = await Promise.all([dispatcher.dispatch(note(1), ['a']), dispatcher.dispatch(note(2), ['b'])])
    })
    expect({ requests, stored: results.map((result) => result.stored) }).toEqual({ requests: 1, stored: [1, 1] })
  })
})
