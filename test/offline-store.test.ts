import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { createMesaKeys } from '../src/core/keys'
import { type Dispatcher, Message, type SyncConfig } from '../src/index'
import { useCleanup } from './support/cleanup'
import { connectMesaClient } from './support/mesa-client'
import { createMesaDispatcher, Message as MesaMessage } from './support/mesa-dispatcher'
import { type MesaServer, startMesaServer } from './support/mesa-server'
import { until } from './support/processes'
import { useStack } from './support/stack'

// The offline store stays within its caps, byte-exact and in order, through the gateway against a real
// redis-server, and what it keeps is what a real Mesa 1.5.8 server redelivers at login.
const stack = useStack()
const open = useCleanup()

const note = (n: number, text = '') => new Message(0, text ? { n, text } : { n }, 'NOTE')
const frame = (n: number, text = '') => JSON.stringify({ op: 0, d: text ? { n, text } : { n }, t: 'NOTE' })
const array = (...frames: string[]) => `[${frames.join(',')}]`

function setup(sync: Partial<SyncConfig> = {}) {
  const namespace = stack.freshNamespace()
  const dispatcher = stack.dispatcher({ namespace, sync: { enabled: true, ...sync } })
  return { namespace, dispatcher, hash: `undelivered_messages_${namespace}`, index: `mesa_dispatch_backlogs_${namespace}` }
}

async function mesa(namespace: string): Promise<MesaServer> {
  const server = await startMesaServer({ redisUrl: stack.redis.url, namespace })
  open({
    close: async () => {
      await server.close()
      expect(server.errors).toEqual([])
    },
  })
  return server
}

/** Logs `id` in to a real Mesa server and returns the frames it redelivers, then checks Mesa cleared the field. */
async function login(namespace: string, id: string, expected: number): Promise<unknown[]> {
  const client = open(await connectMesaClient((await mesa(namespace)).url, id))
  const frames = await client.waitForMessages(expected)
  await client.expectNoMoreMessages(100)
  return frames
}

async function sendAll(dispatcher: Dispatcher, messages: Message[], recipients: string[]) {
  const results = []
  for (const message of messages) results.push(await dispatcher.dispatch(message, recipients))
  return results
}

describe('the offline store, per recipient', () => {
  it('keeps at most maxMessages, dropping the oldest, and Mesa redelivers the rest with s = 1..N in order', async () => {
    const { namespace, dispatcher, hash, index } = setup({ maxMessages: 3 })
    const results = await sendAll(
      dispatcher,
      [1, 2, 3, 4, 5].map((n) => note(n)),
      ['later'],
    )

    expect(results.map(({ stored, dropped, unstored }) => ({ stored, dropped, unstored }))).toEqual([
      ...Array(3).fill({ stored: 1, dropped: 0, unstored: [] }),
      ...Array(2).fill({ stored: 1, dropped: 1, unstored: [] }),
    ])
    const value = array(frame(3), frame(4), frame(5))
    expect(await stack.admin.hget(hash, 'later')).toBe(value)
    // The fingerprint: the first 8 hex digits of the SHA-1 of the first message kept, then of the last.
    const fingerprint = [frame(3), frame(5)].map((each) => createHash('sha1').update(each).digest('hex').slice(0, 8)).join('')
    expect(await stack.admin.hget(index, 'later')).toMatch(
      new RegExp(`^${value.length}:3:\\d{10}:${fingerprint}:${[3, 4, 5].map((n) => frame(n).length).join(',')}$`),
    )
    expect(await login(namespace, 'later', 3)).toEqual([3, 4, 5].map((n, i) => ({ ...JSON.parse(frame(n)), s: i + 1 })))
  })

  it('keeps at most maxBytes, the newest messages whole and byte-exact', async () => {
    const { dispatcher, hash } = setup({ maxBytes: 120 })
    const sizes = [10, 40, 5, 30, 1]
    await sendAll(
      dispatcher,
      sizes.map((size, n) => note(n, 'x'.repeat(size))),
      ['later'],
    )

    // Newest first, as many whole messages as fit in 120 bytes with the brackets and commas.
    const frames = sizes.map((size, n) => frame(n, 'x'.repeat(size)))
    let kept: string[] = []
    for (const each of [...frames].reverse()) if (array(each, ...kept).length <= 120) kept = [each, ...kept]
    expect(kept.length).toBeGreaterThan(1)
    expect(await stack.admin.hget(hash, 'later')).toBe(array(...kept))
  })

  it('stores nothing of a message larger than maxBytes alone, reports the recipient unstored, and still publishes', async () => {
    const { namespace, dispatcher, hash } = setup({ maxBytes: 64 })
    await stack.admin.sadd(`connected_clients_${namespace}`, 'here')
    await dispatcher.dispatch(note(1), ['later'])

    const result = await dispatcher.dispatch(note(2, 'y'.repeat(64)), ['here', 'later'])

    expect(result).toMatchObject({ recipients: ['here'], online: ['here'], offline: ['later'], unstored: ['later'], stored: 0, dropped: 0 })
    expect(await stack.admin.hget(hash, 'later')).toBe(array(frame(1)))
  })

  it('keeps everything when both caps are 0, as Mesa does', async () => {
    const { dispatcher, hash } = setup({ maxMessages: 0, maxBytes: 0 })
    await Promise.all(Array.from({ length: 1500 }, (_, n) => dispatcher.dispatch(note(n), ['later'])))
    expect(JSON.parse((await stack.admin.hget(hash, 'later'))!)).toHaveLength(1500)
  })

  it('reports as unstored the offline recipients Mesa never stores: numbers, blank ids, and messages with sync: false', async () => {
    const { dispatcher } = setup()
    expect(await dispatcher.dispatch(note(1), [7, ' ', 'later'])).toMatchObject({ offline: [7, ' ', 'later'], unstored: [7, ' '], stored: 1 })
    expect(await dispatcher.dispatch(new Message(0, {}, 'NOTE', { sync: false }), ['later'])).toMatchObject({
      offline: ['later'],
      unstored: ['later'],
      stored: 0,
    })
  })

  it('keeps 1,000 messages at the default caps and drops one per dispatch after that', async () => {
    const { dispatcher, hash } = setup()
    await Promise.all(Array.from({ length: 1000 }, (_, n) => dispatcher.dispatch(note(n), ['later'])))
    const result = await dispatcher.dispatch(note(1000), ['later'])
    const kept = JSON.parse((await stack.admin.hget(hash, 'later'))!) as Array<{ d: { n: number } }>
    expect({ dropped: result.dropped, count: kept.length, first: kept[0]!.d.n, last: kept.at(-1)!.d.n }).toEqual({
      dropped: 1,
      count: 1000,
      first: 1,
      last: 1000,
    })
  })

  it("checks again a value someone else changed since: Mesa's own Dispatcher appending, then the caps", async () => {
    const { namespace, dispatcher, hash } = setup({ maxMessages: 3 })
    await sendAll(dispatcher, [note(1), note(2)], ['later'])
    const theirs = createMesaDispatcher(stack.redis.url, { namespace, sync: { enabled: true } })
    open({ close: () => theirs.close() })
    theirs.dispatcher.dispatch(new (await import('./support/mesa-dispatcher')).Message(0, { n: 3 }, 'NOTE'), ['later'])
    await theirs.settle()

    expect((await dispatcher.dispatch(note(4), ['later'])).dropped).toBe(1)
    expect(await stack.admin.hget(hash, 'later')).toBe(array(frame(2), frame(3), frame(4)))
  })
})

describe('a stored value Mesa cannot redeliver', () => {
  // Each would stop Mesa 1.5.8 at login for good: JSON.parse throws, or `.map`/`message.op` does on what it parsed.
  it.each([
    ['[oops]'],
    ['[1,]'],
    ['[{"op":0,"d":1}]]'],
    ['['],
    [']'],
    ['[{"op":0,"d":1}'],
    ['{}'],
    ['"text"'],
    ['42'],
    ['[null]'],
    ['[{"op":0,"d":1},null]'],
    ['[NaN]'],
    ['[Infinity]'],
    ['[0x10]'],
    ['[01]'],
    ['[1.]'],
    ['[+1]'],
    ['[.5]'],
    ['[-]'],
    ['[1e]'],
    ['[{"a" 1}]'],
    ['[{"a":1,}]'],
    ['[{,}]'],
    ['["\\x"]'],
    ['["\\u12"]'],
    ['["tab\tinside"]'],
    ['[true false]'],
    ['[nul]'],
    ['[] []'],
    ['\ufeff[]'],
    ['not json'],
    ['[{"op":0,"d":"\u0001"}]'],
  ])('%j is replaced, not appended to, and Mesa then redelivers the new message', async (stored) => {
    const { namespace, dispatcher, hash } = setup()
    await stack.admin.hset(hash, 'later', stored)

    expect(await dispatcher.dispatch(note(1), ['later'])).toMatchObject({ stored: 1, dropped: 0 })

    expect(await stack.admin.hget(hash, 'later')).toBe(array(frame(1)))
    expect(await login(namespace, 'later', 1)).toEqual([{ ...JSON.parse(frame(1)), s: 1 }])
    expect(await stack.admin.hexists(hash, 'later')).toBe(0)
  })
})

describe('a stored value Mesa can redeliver, though this Dispatcher did not write it', () => {
  const deep = `${'['.repeat(2000)}1${']'.repeat(2000)}`
  it.each([
    ['with whitespace around and inside', ' [ {"op":0,"d":"a"} ,\n{"op":0,"d":"b"} ] '],
    ['empty, with spaces', '[ ]'],
    ['of every JSON value but null', '[{"op":0,"d":1},1,"x",[],true,{}]'],
    ['with escapes, a lone surrogate and non-ASCII text', '[{"op":0,"d":"\\"q\\" \\\\ \\/ \\b\\f\\n\\r\\t \\u00e9 \\ud800 é 😀"}]'],
    ['with numbers of every JSON form', '[{"op":0,"d":[0,-0,1.5,-2e10,3E+2,4e-1,0.30000000000000004]}]'],
    ['nested 2,000 deep', `[{"op":0,"d":${deep}}]`],
  ])('%s is appended to, and Mesa redelivers it all', async (_, stored) => {
    const { namespace, dispatcher, hash } = setup()
    await stack.admin.hset(hash, 'later', stored)
    const before = JSON.parse(stored) as unknown[]

    expect(await dispatcher.dispatch(note(1), ['later'])).toMatchObject({ stored: 1, dropped: 0 })

    const value = (await stack.admin.hget(hash, 'later'))!
    expect(value.endsWith(`,${frame(1)}]`) || value === array(frame(1))).toBe(true)
    expect(JSON.parse(value)).toEqual([...before, JSON.parse(frame(1))])
    const frames = await login(namespace, 'later', before.length + 1)
    expect(frames.at(-1)).toEqual({ ...JSON.parse(frame(1)), s: before.length + 1 })
  })
})

describe('idempotency keys', () => {
  it('keep only the fingerprint a retry is checked against, however many recipients the dispatch named', async () => {
    const { namespace, dispatcher } = setup()
    const ids = Array.from({ length: 10_000 }, (_, i) => `user-${i}`)
    await dispatcher.dispatch(note(1), ids, undefined, { id: 'big-one' })
    expect(await stack.admin.strlen(createMesaKeys(namespace).idempotency('dispatch', 'big-one'))).toBe(32)
    expect((await dispatcher.dispatch(note(1), ids, undefined, { id: 'big-one' })).duplicate).toBe(true)
  })
})

describe('the index of stored values', () => {
  it('stays a hash table, so that a dispatch looks each recipient up at once instead of scanning a listpack', async () => {
    const { dispatcher, index } = setup()
    await dispatcher.dispatch(note(1), ['later'])
    expect(await stack.admin.object('ENCODING', index)).toBe('hashtable')
  })

  it('says where to cut, and is checked at the cut: a value rewritten to the very length of ours is listed again from its text', async () => {
    const { dispatcher, hash } = setup({ maxMessages: 3 })
    await sendAll(dispatcher, [note(1), note(2), note(3)], ['later'])
    // Someone else's three messages, of other lengths but the same total, in place of ours.
    const ours = (await stack.admin.hget(hash, 'later'))!
    const padded = (n: number, length: number) => JSON.stringify({ op: 0, d: `${n}`.padEnd(length - '{"op":0,"d":""}'.length, 'x') })
    const one = frame(1).length
    const theirs = [padded(10, one - 4), padded(20, one + 6), padded(30, one - 2)]
    expect(array(...theirs).length).toBe(ours.length)
    await stack.admin.hset(hash, 'later', array(...theirs))

    expect(await dispatcher.dispatch(note(4), ['later'])).toMatchObject({ stored: 1, dropped: 1 })
    expect(await stack.admin.hget(hash, 'later')).toBe(array(theirs[1]!, theirs[2]!, frame(4)))
  })
})

describe('a value of the very length the index records, written by someone else', () => {
  // Mesa's own Dispatcher writes JSON.stringify of its messages: two without a type, of 15 bytes each and a comma,
  // are as long as one note of ours (31 bytes).
  const mesaTwo = ['{"op":0,"d":{}}', '{"op":0,"d":[]}']

  it("is not trusted after a real login and Mesa's own Dispatcher's two messages: a cap of 2 keeps 2, and says it dropped one", async () => {
    const { namespace, dispatcher, hash } = setup({ maxMessages: 2 })
    await dispatcher.dispatch(note(1), ['u'])
    // A real login redelivers ours and deletes the field, and the logout leaves u offline: our index entry stays.
    const client = await connectMesaClient((await mesa(namespace)).url, 'u')
    expect(await client.waitForMessages(1)).toEqual([{ op: 0, d: { n: 1 }, t: 'NOTE', s: 1 }])
    await client.close()
    await until('u is offline again', async () => ((await stack.admin.sismember(`connected_clients_${namespace}`, 'u')) === 0 ? true : undefined))
    const theirs = open(createMesaDispatcher(stack.redis.url, { namespace, sync: { enabled: true } }))
    // One at a time: Mesa's own Dispatcher reads, appends and writes back, and two at once would keep one.
    theirs.dispatcher.dispatch(new MesaMessage(0, {}), ['u'])
    await theirs.settle()
    theirs.dispatcher.dispatch(new MesaMessage(0, []), ['u'])
    await theirs.settle()
    expect(await stack.admin.hget(hash, 'u')).toBe(array(...mesaTwo))
    expect(array(...mesaTwo).length).toBe(array(frame(1)).length)

    expect(await dispatcher.dispatch(note(3), ['u'])).toMatchObject({ stored: 1, dropped: 1 })
    expect(await stack.admin.hget(hash, 'u')).toBe(array(mesaTwo[1]!, frame(3)))
    expect(await login(namespace, 'u', 2)).toEqual([
      { op: 0, d: [], s: 1 },
      { op: 0, d: { n: 3 }, t: 'NOTE', s: 2 },
    ])
  })

  it('is not cut where our lengths say, though commas stand there inside its text and a number between them', async () => {
    // Our three notes of 31 bytes; a cap of 100 bytes makes a 60-byte message drop the first two at once, cut after
    // the second, and only the second is parsed to check the cut.
    const { namespace, dispatcher, hash } = setup({ maxBytes: 100 })
    await sendAll(dispatcher, [note(1), note(2), note(3)], ['u'])
    const ours = (await stack.admin.hget(hash, 'u'))!
    // One string whose commas stand where ours separated messages, with 31 digits (a valid number) between them.
    const text = `${'x'.repeat(30)},${'1'.repeat(31)},${'y'.repeat(ours.length - 2 - 2 - 30 - 1 - 31 - 1)}`
    const theirs = JSON.stringify(text)
    expect({ length: array(theirs).length, commas: [array(theirs)[32], array(theirs)[64]] }).toEqual({ length: ours.length, commas: [',', ','] })
    await stack.admin.hset(hash, 'u', array(theirs))

    const big = new Message(0, { text: 'z'.repeat(60 - '{"op":0,"d":{"text":""},"t":"NOTE"}'.length) }, 'NOTE')
    expect(await dispatcher.dispatch(big, ['u'])).toMatchObject({ stored: 1, dropped: 1 })
    expect(await stack.admin.hget(hash, 'u')).toBe(array(big.json))
    expect(await login(namespace, 'u', 1)).toEqual([{ ...JSON.parse(big.json), s: 1 }])
  })

  it('is replaced when it is not JSON, as any value Mesa could not redeliver is', async () => {
    const { namespace, dispatcher, hash } = setup()
    await dispatcher.dispatch(note(1), ['u'])
    await stack.admin.hset(hash, 'u', 'x'.repeat(array(frame(1)).length))

    expect(await dispatcher.dispatch(note(2), ['u'])).toMatchObject({ stored: 1 })
    expect(await stack.admin.hget(hash, 'u')).toBe(array(frame(2)))
    expect(await login(namespace, 'u', 1)).toEqual([{ op: 0, d: { n: 2 }, t: 'NOTE', s: 1 }])
  })
})
