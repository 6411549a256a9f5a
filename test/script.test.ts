import { Redis as NodeRedis } from '@upstash/redis'
import { Redis as CloudflareRedis } from '@upstash/redis/cloudflare'
import { describe, expect, it } from 'vitest'
import { Dispatcher as DispatcherClass, Message, RedisCommandError, ValidationError, type Dispatcher, type Recipient } from '../src/index'
import { recordChannel } from './support/channel-recorder'
import { useCleanup } from './support/cleanup'
import { useStack } from './support/stack'

// The dispatch script's own guarantees, through the gateway against a real redis-server.
const stack = useStack()
const open = useCleanup()

function setup(sync = true) {
  const namespace = stack.freshNamespace()
  return { namespace, dispatcher: stack.dispatcher({ namespace, sync: { enabled: sync } }), hash: `undelivered_messages_${namespace}` }
}
const note = (n: number) => new Message(0, { n }, 'NOTE')

/** Counts the HTTP requests that reach the gateway while `work` runs. */
async function requestsDuring(work: () => Promise<unknown>): Promise<number> {
  const before = stack.gateway.requests
  await work()
  return stack.gateway.requests - before
}

describe('one request per dispatch', () => {
  it.each([
    ['one recipient, sync off', false, 1, 0],
    ['one recipient, sync on', true, 1, 1],
    ['1,000 recipients with 500 offline, sync on', true, 1000, 500],
    ['1,000 recipients, sync off', false, 1000, 0],
  ])('costs one HTTP request for %s', async (_, sync, count, offline) => {
    const { namespace, dispatcher } = setup(sync)
    const ids = Array.from({ length: count }, (_, i) => `user-${i}`)
    if (count - offline > 0) await stack.admin.sadd(`connected_clients_${namespace}`, ...ids.slice(offline))
    await dispatcher.dispatch(note(0), ['warm-up']) // loads the script into Redis's cache if it is not there yet

    let stored = -1
    expect(await requestsDuring(async () => ({ stored } = await dispatcher.dispatch(note(1), ids)))).toBe(1)
    expect(stored).toBe(offline)
  })

  it('costs two requests only when Redis has lost the script: EVALSHA, then EVAL', async () => {
    const { dispatcher } = setup()
    await stack.admin.script('FLUSH')
    expect([await requestsDuring(() => dispatcher.dispatch(note(1))), await requestsDuring(() => dispatcher.dispatch(note(2)))]).toEqual([2, 1])
  })

  it.each<[string, () => Promise<unknown>, string]>([
    ['a recipient that is an object', () => setup().dispatcher.dispatch(note(1), [{} as Recipient]), 'recipients[0]'],
    ['recipients that are not an array', () => setup().dispatcher.dispatch(note(1), 'a' as never), 'recipients'],
    ['an infinite number in excluding', () => setup().dispatcher.dispatch(note(1), ['a'], [Infinity]), 'excluding[0]'],
    ['too many recipients', () => stack.dispatcher({ maxRecipients: 2 }).dispatch(note(1), ['a', 'b', 'c']), 'recipients'],
    ['an empty id', () => setup().dispatcher.dispatch(note(1), ['a'], [], { id: '' }), 'id'],
    ['a plain object instead of a Message', () => setup().dispatcher.dispatch({ op: 0 } as never), 'event'],
  ])('rejects %s before any request, naming the field', async (_, dispatch, field) => {
    let error: unknown
    expect(await requestsDuring(() => dispatch().catch((caught: unknown) => (error = caught)))).toBe(0)
    expect(error).toBeInstanceOf(ValidationError)
    expect((error as ValidationError).field).toBe(field)
  })
})

describe('one script call per tick', () => {
  it('carries every dispatch issued together in one request, each with its own result', async () => {
    const { namespace, dispatcher } = setup()
    await stack.admin.sadd(`connected_clients_${namespace}`, 'on')
    await dispatcher.dispatch(note(0), ['warm-up'])
    const recorder = open(await recordChannel(stack.redis.url, `ws_${namespace}`))

    let results: Awaited<ReturnType<Dispatcher['dispatch']>>[] = []
    const requests = await requestsDuring(async () => {
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
    expect(recorder.messages.map((payload) => JSON.parse(payload).message.d.n)).toEqual([1, 2, 3])
  })

  it.each([
    ['1,001 dispatches: at most 1,000 per call', 1001, 1, false, 2],
    ['three dispatches checking 5,000 recipients each: at most 10,000 checks per call', 3, 5000, true, 2],
  ])('splits a tick into more calls past the limits: %s', async (_, count, recipients, sync, expected) => {
    const { dispatcher } = setup(sync)
    await dispatcher.dispatch(note(0), ['warm-up'])
    const ids = Array.from({ length: recipients }, (_, i) => `u${i}`)
    let settled: unknown[] = []
    const requests = await requestsDuring(async () => {
      settled = await Promise.all(Array.from({ length: count }, (_, n) => dispatcher.dispatch(note(n), ids)))
    })
    expect({ requests, settled: settled.length }).toEqual({ requests: expected, settled: count })
  })

  it('splits a tick past one million characters of arguments per call', async () => {
    const { dispatcher } = setup(false)
    await dispatcher.dispatch(note(0), ['warm-up'])
    const big = new Message(0, { text: 'x'.repeat(400_000) }, 'BIG')
    expect(await requestsDuring(() => Promise.all([1, 2, 3].map(() => dispatcher.dispatch(big, ['a']))))).toBe(2)
  })

  it('fails only the dispatch Redis refuses, and applies the others of the same call', async () => {
    const { namespace, dispatcher, hash } = setup()
    await stack.admin.sadd(`connected_clients_${namespace}`, 'on')
    await stack.admin.hset(`mesa_dispatch_ids_${namespace}:bad`, 'not', 'a string')
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

  it('applies an id named twice in one call once, and answers the second as a duplicate', async () => {
    const { namespace, dispatcher } = setup(false)
    const recorder = open(await recordChannel(stack.redis.url, `ws_${namespace}`))
    const results = await Promise.all([1, 2].map((n) => dispatcher.dispatch(note(n), ['a'], undefined, { id: 'twice' })))
    expect(results.map((result) => result.duplicate)).toEqual([false, true])
    expect(await recorder.waitFor(1)).toEqual(['{"message":{"op":0,"d":{"n":1},"t":"NOTE"},"recipients":["a"]}'])
  })

  it("keeps the call's reply for two minutes under its own key, which a retry of the call would read", async () => {
    const { namespace, dispatcher } = setup(false)
    await Promise.all([dispatcher.dispatch(note(1), ['a']), dispatcher.dispatch(note(2), ['b'], undefined, { id: 'x' })])
    const [callKey] = await stack.admin.keys(`mesa_dispatch_ids_${namespace}:call:*`)
    const ttl = await stack.admin.ttl(callKey!)
    expect({ reply: await stack.admin.get(callKey!), ttlWithinTwoMinutes: ttl > 110 && ttl <= 120 }).toEqual({ reply: 'n0:0:\nn0:0:', ttlWithinTwoMinutes: true })
  })
})

describe("a caller's own @upstash/redis client", () => {
  it.each([
    ['the main entry', (url: string, token: string) => new NodeRedis({ url, token })],
    ['the Cloudflare entry', (url: string, token: string) => new CloudflareRedis({ url, token })],
  ])('is used as given when it comes from %s, in one request per call', async (_, create) => {
    const namespace = stack.freshNamespace()
    const dispatcher = new DispatcherClass(create(stack.connection.url, stack.connection.token), { namespace, sync: { enabled: true } })
    await dispatcher.dispatch(note(0), ['warm-up'])
    let results: Awaited<ReturnType<Dispatcher['dispatch']>>[] = []
    const requests = await requestsDuring(async () => {
      results = await Promise.all([dispatcher.dispatch(note(1), ['a']), dispatcher.dispatch(note(2), ['b'])])
    })
    expect({ requests, stored: results.map((result) => result.stored) }).toEqual({ requests: 1, stored: [1, 1] })
  })
})

describe('the offline store', () => {
  it.each([
    ['an array with whitespace around it', ' \n[{"op":0,"d":1}] \t', '[{"op":0,"d":1},{"op":0,"d":{"n":1},"t":"NOTE"}]'],
    ['an empty array with spaces inside', '[ ]', '[{"op":0,"d":{"n":1},"t":"NOTE"}]'],
    ['a value that is not an array, as Mesa does', 'not json', '[{"op":0,"d":{"n":1},"t":"NOTE"}]'],
  ])('appends to %s', async (_, existing, expected) => {
    const { dispatcher, hash } = setup()
    await stack.admin.hset(hash, 'x', existing)
    await dispatcher.dispatch(note(1), ['x'])
    expect(await stack.admin.hget(hash, 'x')).toBe(expected)
  })

  it('handles more recipients than one Lua unpack can take', async () => {
    const { namespace, dispatcher, hash } = setup()
    const ids = Array.from({ length: 9000 }, (_, i) => `u${i}`)
    await stack.admin.sadd(`connected_clients_${namespace}`, ...ids.filter((_, i) => i % 2 === 0))

    const result = await dispatcher.dispatch(note(1), ids)

    expect({ stored: result.stored, online: result.online?.length, fields: await stack.admin.hlen(hash) }).toEqual({ stored: 4500, online: 4500, fields: 4500 })
    expect(await stack.admin.hget(hash, 'u8999')).toBe('[{"op":0,"d":{"n":1},"t":"NOTE"}]')
  })
})

describe('errors inside the script', () => {
  it('rejects with a RedisCommandError naming WRONGTYPE, having published and stored nothing', async () => {
    const { namespace, dispatcher, hash } = setup()
    await stack.admin.set(`connected_clients_${namespace}`, 'not a set')
    const recorder = open(await recordChannel(stack.redis.url, `ws_${namespace}`))

    const failure = await dispatcher.dispatch(note(1), ['x'], undefined, { id: 'will-retry' }).catch((error: unknown) => error)

    expect(failure).toBeInstanceOf(RedisCommandError)
    expect((failure as Error).message).toMatch(/WRONGTYPE/)
    // The only key written is the call's own record of its reply, which a retry of the call would get back.
    const keys = await stack.admin.keys(`*${namespace}*`)
    const callKey = keys.find((key) => key.startsWith(`mesa_dispatch_ids_${namespace}:call:`))
    expect({ published: recorder.messages, stored: await stack.admin.hgetall(hash), keys: keys.filter((key) => key !== callKey) }).toEqual({
      published: [], stored: {}, keys: [`connected_clients_${namespace}`],
    })
    expect(await stack.admin.get(callKey!)).toMatch(/^eWRONGTYPE /)
    // The dedupe key was not taken, so the same id goes through once the data is fixed.
    await stack.admin.del(`connected_clients_${namespace}`)
    expect((await dispatcher.dispatch(note(1), ['x'], undefined, { id: 'will-retry' })).stored).toBe(1)
  })
})

describe('dispatch ids', () => {
  async function twice(dispatcher: Dispatcher, ids: [string, string]) {
    return [await dispatcher.dispatch(note(1), ['*'], undefined, { id: ids[0] }), await dispatcher.dispatch(note(1), ['*'], undefined, { id: ids[1] })]
  }

  it('applies a repeated id once and answers the repeat as a duplicate', async () => {
    const { namespace, dispatcher } = setup()
    const recorder = open(await recordChannel(stack.redis.url, `ws_${namespace}`))
    const [first, second] = await twice(dispatcher, ['same', 'same'])
    expect({ first: first!.duplicate, second, published: recorder.messages.length }).toEqual({
      first: false,
      second: { servers: 0, recipients: [], online: null, offline: [], stored: 0, duplicate: true, excludingIgnored: false },
      published: 1,
    })
  })

  it('never conflates different ids, or the same id in different namespaces', async () => {
    const [a, b] = [setup(), setup()]
    const results = [...(await twice(a.dispatcher, ['one', 'two'])), ...(await twice(b.dispatcher, ['one', 'three']))]
    expect(results.map((result) => result.duplicate)).toEqual([false, false, false, false])
  })

  it('remembers an id for the dedupe window', async () => {
    const { namespace } = setup()
    await stack.dispatcher({ namespace, dedupeTtlSeconds: 90 }).dispatch(note(1), ['*'], undefined, { id: 'ttl' })
    expect(await stack.admin.ttl(`mesa_dispatch_ids_${namespace}:ttl`)).toBeGreaterThan(85)
  })
})
