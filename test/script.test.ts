import { describe, expect, it, vi } from 'vitest'
import { createMesaKeys } from '../src/core/keys'
import { type Dispatcher, Message, type Recipient, RedisCommandError, ValidationError } from '../src/index'
import { recordChannel } from './support/channel-recorder'
import { useCleanup } from './support/cleanup'
import { useStack } from './support/stack'

// The dispatch script's own guarantees, through the gateway against a real redis-server.
const stack = useStack()
const open = useCleanup()

const setup = (sync?: boolean) => stack.freshDispatcher(sync)
const note = (n: number) => new Message(0, { n }, 'NOTE')

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
    expect(await stack.requestsDuring(async () => ({ stored } = await dispatcher.dispatch(note(1), ids)))).toBe(1)
    expect(stored).toBe(offline)
  })

  it('costs two requests only when Redis has lost the script: EVALSHA, then EVAL', async () => {
    const { dispatcher } = setup()
    await stack.admin.script('FLUSH')
    expect([await stack.requestsDuring(() => dispatcher.dispatch(note(1))), await stack.requestsDuring(() => dispatcher.dispatch(note(2)))]).toEqual([2, 1])
  })

  it.each<[string, () => Promise<unknown>, string]>([
    ['a recipient that is an object', () => setup().dispatcher.dispatch(note(1), [{} as Recipient]), 'recipients[0]'],
    ['recipients that are not an array', () => setup().dispatcher.dispatch(note(1), 'a' as never), 'recipients'],
    ['an infinite number in excluding', () => setup().dispatcher.dispatch(note(1), ['a'], [Infinity]), 'excluding[0]'],
    ['too many recipients', () => stack.dispatcher({ maxRecipients: 2 }).dispatch(note(1), ['a', 'b', 'c']), 'recipients'],
    ['an empty id', () => setup().dispatcher.dispatch(note(1), ['a'], [], { id: '' }), 'id'],
    ['a ttlSeconds of 0', () => setup().dispatcher.dispatch(note(1), ['a'], [], { id: 'x', ttlSeconds: 0 }), 'ttlSeconds'],
    ['a fractional ttlSeconds', () => setup().dispatcher.dispatch(note(1), ['a'], [], { id: 'x', ttlSeconds: 1.5 }), 'ttlSeconds'],
    ['a plain object instead of a Message', () => setup().dispatcher.dispatch({ op: 0 } as never), 'event'],
  ])('rejects %s before any request, naming the field', async (_, dispatch, field) => {
    let error: unknown
    expect(await stack.requestsDuring(() => dispatch().catch((caught: unknown) => (error = caught)))).toBe(0)
    expect(error).toBeInstanceOf(ValidationError)
    expect((error as ValidationError).field).toBe(field)
  })
})

describe('the Lua text', () => {
  it('is inflated for the EVAL after a NOSCRIPT alone, once per process, never for a dispatch whose script Redis holds', async () => {
    await setup().dispatcher.dispatch(note(0)) // Redis holds the script
    // A fresh copy of the modules, whose memo of inflated texts is empty, as a new process's is.
    vi.resetModules()
    const fresh = await import('../src/index')
    const Original = globalThis.DecompressionStream
    let inflations = 0
    globalThis.DecompressionStream = class extends Original {
      constructor(format: CompressionFormat) {
        inflations++
        super(format)
      }
    }
    try {
      const dispatcher = new fresh.Dispatcher(stack.connection, { namespace: stack.freshNamespace() })
      const counts: number[] = []
      for (const flush of [false, false, true, true, false]) {
        if (flush) await stack.admin.script('FLUSH')
        await dispatcher.dispatch(new fresh.Message(0, { n: 1 }, 'NOTE'))
        counts.push(inflations)
      }
      expect(counts).toEqual([0, 0, 1, 1, 1])
    } finally {
      globalThis.DecompressionStream = Original
    }
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
    const callKey = keys.find((key) => key.startsWith(`mesa_dispatch_call:${namespace.length}:${namespace}:`))
    expect({ published: recorder.messages, stored: await stack.admin.hgetall(hash), keys: keys.filter((key) => key !== callKey) }).toEqual({
      published: [],
      stored: {},
      keys: [`connected_clients_${namespace}`],
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
      second: { servers: 0, recipients: [], online: null, offline: [], unstored: [], stored: 0, dropped: 0, duplicate: true, excludingIgnored: false },
      published: 1,
    })
  })

  it('never conflates different ids, or the same id in different namespaces', async () => {
    const [a, b] = [setup(), setup()]
    const results = [...(await twice(a.dispatcher, ['one', 'two'])), ...(await twice(b.dispatcher, ['one', 'three']))]
    expect(results.map((result) => result.duplicate)).toEqual([false, false, false, false])
  })

  it('remembers an id for the dedupe window, or for the ttlSeconds its dispatch asks for', async () => {
    const { namespace } = setup()
    const dispatcher = stack.dispatcher({ namespace, dedupeTtlSeconds: 90 })
    await dispatcher.dispatch(note(1), ['*'], undefined, { id: 'ttl' })
    await dispatcher.dispatch(note(2), ['*'], undefined, { id: 'short', ttlSeconds: 30 })
    const keys = createMesaKeys(namespace)
    const [window, short] = [await stack.admin.ttl(keys.idempotency('dispatch', 'ttl')), await stack.admin.ttl(keys.idempotency('dispatch', 'short'))]
    expect({ window: window > 85 && window <= 90, short: short > 25 && short <= 30 }).toEqual({ window: true, short: true })
  })
})

describe('ill-formed UTF-16', () => {
  /** Runs each dispatch, reporting its refusal as data. */
  const refusals = (dispatches: Array<() => Promise<unknown>>) =>
    Promise.all(
      dispatches.map((dispatch) =>
        dispatch().then(
          () => 'sent',
          (error: ValidationError) => ({ field: error.field, message: error.message }),
        ),
      ),
    )
  const lone = (field: string) => ({ field, message: `${field} must be well-formed UTF-16, without a lone surrogate` })

  it('refuses lone surrogates in recipients, excluding and ids before any request, so none can share a key in Redis', async () => {
    const { namespace, dispatcher, hash } = setup()
    let refused: unknown
    const requests = await stack.requestsDuring(async () => {
      refused = await refusals([
        // In UTF-8 both become U+FFFD: they would have shared one field of the offline store.
        () => dispatcher.dispatch(note(1), ['\ud800']),
        () => dispatcher.dispatch(note(2), ['ok', '\udbff']),
        () => dispatcher.dispatch(note(3), ['a'], ['\udc00']),
        // And these one dedupe key, so the second would have been dropped as a duplicate.
        () => dispatcher.dispatch(note(4), ['a'], undefined, { id: 'order-\ud800' }),
        () => dispatcher.dispatch(note(5), ['a'], undefined, { id: 'order-\udc00' }),
      ])
    })
    expect({
      refused,
      requests,
      stored: await stack.admin.hgetall(hash),
      keys: await stack.admin.keys(`mesa_dispatch_id:dispatch:*:${namespace}:order-*`),
    }).toEqual({
      refused: [lone('recipients[0]'), lone('recipients[1]'), lone('excluding[0]'), lone('id'), lone('id')],
      requests: 0,
      stored: {},
      keys: [],
    })
  })

  it('keeps a surrogate pair, stored under its own field', async () => {
    const { dispatcher, hash } = setup()
    await dispatcher.dispatch(note(1), ['\ud83d\ude00'], undefined, { id: 'order-\ud83d\ude00' })
    expect(await stack.admin.hgetall(hash)).toEqual({ '😀': '[{"op":0,"d":{"n":1},"t":"NOTE"}]' })
  })
})
