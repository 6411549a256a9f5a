import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { Message, type SyncConfig } from '../src/index'
import { useStack } from './support/stack'

// What one script call checks as JSON is bounded by the tokens it visits, not only by its bytes: a check's time
// goes by its tokens (256 KB of bare numbers took 200 ms to check, 256 KB of Mesa's messages 9 ms), and the Redis
// a call holds is shared with the Mesa servers. Counted through the gateway against a real redis-server.
const stack = useStack()

const [, SCAN_TOKENS, MESSAGE_TOKENS] = readFileSync('src/script/dispatch/json.lua', 'utf8')
  .match(/local SCAN_TOKENS, MESSAGE_TOKENS, TOO_COSTLY = (\d+), (\d+), \{\}/)!
  .map(Number) as [number, number, number]
/** A value another writer stored: an array of `count` numbers, each message costing 1 + MESSAGE_TOKENS tokens. */
const numbers = (count: number) => `[${Array(count).fill('0').join(',')}]`
const note = (n: number) => new Message(0, { n }, 'NOTE')
const frame = (n: number) => JSON.stringify({ op: 0, d: { n }, t: 'NOTE' })

function setup(sync: Partial<SyncConfig> = {}) {
  const namespace = stack.freshNamespace()
  const dispatcher = stack.dispatcher({ namespace, sync: { enabled: true, ...sync } })
  return { dispatcher, hash: `undelivered_messages_${namespace}`, index: `mesa_dispatch_backlogs_${namespace}` }
}

describe('a value another writer stored, with more JSON tokens than one call may check', () => {
  it('is left as it is, its recipient unstored, in one script call, though it is far under the bytes a call may check', async () => {
    const { dispatcher, hash } = setup()
    const theirs = numbers(SCAN_TOKENS / (1 + MESSAGE_TOKENS) + 1)
    await stack.admin.hset(hash, 'u', theirs)
    // Redis has the script cached from then on, so that each call is one request.
    await dispatcher.dispatch(note(0), ['someone-else'])

    let result: unknown
    const requests = await stack.requestsDuring(async () => (result = await dispatcher.dispatch(note(1), ['u'])))

    expect({ requests, result, value: await stack.admin.hget(hash, 'u') }).toMatchObject({
      requests: 1,
      result: { offline: ['u'], unstored: ['u'], stored: 0, dropped: 0 },
      value: theirs,
    })
    expect(theirs.length).toBeLessThan(SCAN_TOKENS * 3)
  })

  it('is counted as unknown by a clear, and removed all the same', async () => {
    const { dispatcher, hash } = setup()
    const theirs = numbers(SCAN_TOKENS / (1 + MESSAGE_TOKENS) + 1)
    await stack.admin.hset(hash, 'u', theirs)

    expect(await dispatcher.clearBacklog(['u'])).toEqual({ cleared: [{ recipient: 'u', messages: null, bytes: theirs.length }], duplicate: false })
    expect(await stack.admin.hexists(hash, 'u')).toBe(0)
  })
})

describe('values another writer stored that each need more than half the tokens one call may check', () => {
  it('are checked one per script call, and each stored into', async () => {
    const { dispatcher, hash } = setup({ maxMessages: 0 })
    const count = Math.floor((0.6 * SCAN_TOKENS) / (1 + MESSAGE_TOKENS))
    const ids = ['a', 'b', 'c']
    await stack.admin.hset(hash, Object.fromEntries(ids.map((id) => [id, numbers(count)])))
    await dispatcher.dispatch(note(0), ['someone-else'])

    let result: unknown
    const requests = await stack.requestsDuring(async () => (result = await dispatcher.dispatch(note(1), ids)))

    expect({ requests, result }).toMatchObject({ requests: 3, result: { offline: ids, unstored: [], stored: 3, dropped: 0 } })
    expect(await stack.admin.hmget(hash, ...ids)).toEqual(ids.map(() => `[${Array(count).fill('0').join(',')},${frame(1)}]`))
  })
})

describe('a message of ours with more JSON tokens than one call may check', () => {
  it('is dropped as the oldest of its backlog without being parsed: the index vouches for a first message', async () => {
    const { dispatcher, hash } = setup({ maxMessages: 2 })
    // Brackets are what a check of our own messages looks at: two per empty array.
    const dense = new Message(0, { arrays: Array(SCAN_TOKENS).fill([]) }, 'NOTE')
    expect(await dispatcher.dispatch(dense, ['u'])).toMatchObject({ stored: 1, unstored: [] })
    expect(await dispatcher.dispatch(note(1), ['u'])).toMatchObject({ stored: 1, unstored: [] })

    expect(await dispatcher.dispatch(note(2), ['u'])).toMatchObject({ offline: ['u'], unstored: [], stored: 1, dropped: 1 })
    expect(await stack.admin.hget(hash, 'u')).toBe(`[${frame(1)},${frame(2)}]`)
  })
})
