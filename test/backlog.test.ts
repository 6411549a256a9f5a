import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type BacklogMessage, type Dispatcher, Message, type Recipient, ValidationError } from '../src/index'
import { useCleanup } from './support/cleanup'
import { connectMesaClient } from './support/mesa-client'
import { type MesaServer, startMesaServer } from './support/mesa-server'
import { roundTrips } from './support/round-trips'
import { TRANSPORTS, useStack } from './support/stack'

// Dispatcher.backlog against a real Mesa 1.5.8 server: what it answers is what that server redelivers at login.
const stack = useStack()
const open = useCleanup()
let mesa: MesaServer
let namespace: string
let hash: string

beforeAll(async () => {
  namespace = stack.freshNamespace()
  hash = `undelivered_messages_${namespace}`
  mesa = await startMesaServer({ redisUrl: stack.redis.url, namespace })
})
afterAll(() => mesa.close())

const note = (n: number) => new Message(0, { n }, 'NOTE')
/** A backlog that fits in one page: every message in it, none after. */
const onePage = (messages: BacklogMessage[], bytes: number) => ({
  messages,
  count: messages.length,
  bytes,
  total: messages.length,
  cursor: null,
  truncated: false,
})
/** A frame as Mesa redelivered it, without the `s` it adds, which is always its last field (or its only one). */
const withoutSequence = (raw: string) => raw.replace(/,?"s":\d+}$/, '}')

describe.each(TRANSPORTS)('Dispatcher.backlog over %s', (transport) => {
  const dispatcher = (): Dispatcher => stack.dispatcher({ namespace, sync: { enabled: true } }, transport)

  it('lists the stored messages exactly as Mesa redelivers them at the next login, without s', async () => {
    const sender = dispatcher()
    const id = `away-${transport}`
    await sender.dispatch(new Message(0, { text: 'héllo 👋', n: 0.30000000000000004, empty: [], nested: {} }, 'CHAT', { sync: true, extra: 1 }), [id])
    await sender.dispatch(new Message(3, null), [id])
    await sender.dispatch(new Message(0, { n: 3 }, 'NOTE'), [id])

    const backlog = await sender.backlog(id)
    const stored = (await stack.admin.hget(hash, id)) ?? ''
    const client = open(await connectMesaClient(mesa.url, id))
    await client.waitForMessages(3)

    expect(backlog).toEqual(
      onePage(
        [
          { op: 0, d: { text: 'héllo 👋', n: 0.30000000000000004, empty: [], nested: {} }, t: 'CHAT' },
          { op: 3, d: null },
          { op: 0, d: { n: 3 }, t: 'NOTE' },
        ],
        Buffer.byteLength(stored),
      ),
    )
    expect(backlog.messages.map((message) => JSON.stringify(message))).toEqual(client.raw.map(withoutSequence))
    expect(client.raw.map((raw) => JSON.parse(raw).s)).toEqual([1, 2, 3])
    expect(await sender.backlog(id)).toEqual(onePage([], 0))
  })

  it('reads a backlog someone else wrote as Mesa does: fields besides op, d and t dropped, and nothing from a value Mesa cannot redeliver', async () => {
    const reader = dispatcher()
    const foreign = '[{"op":0,"d":{"a":1},"t":"X","o":{"sync":true},"s":9,"extra":true}, 5, {"d":"no op"}]'
    const stuck = '[{"op":0,"d":1,"t":"X"},null]'
    await stack.admin.hset(hash, `foreign-${transport}`, foreign, `stuck-${transport}`, stuck, `broken-${transport}`, '[{"op":0', `object-${transport}`, '{}')

    const answers = await Promise.all(['foreign', 'stuck', 'broken', 'object'].map((name) => reader.backlog(`${name}-${transport}`)))
    const client = open(await connectMesaClient(mesa.url, `foreign-${transport}`))
    await client.waitForMessages(3)

    expect(answers).toEqual([
      onePage([{ op: 0, d: { a: 1 }, t: 'X' }, {} as BacklogMessage, { d: 'no op' } as BacklogMessage], Buffer.byteLength(foreign)),
      onePage([], Buffer.byteLength(stuck)),
      onePage([], 8),
      onePage([], 2),
    ])
    expect(answers[0]!.messages.map((message) => JSON.stringify(message))).toEqual(client.raw.map(withoutSequence))
  })

  it('reads the field of a number id as Mesa does at that client’s login: its decimal string', async () => {
    const reader = dispatcher()
    await reader.dispatch(note(1), [`7${transport.length}`])
    const asNumber = await reader.backlog(Number(`7${transport.length}`))
    const client = open(await connectMesaClient(mesa.url, Number(`7${transport.length}`)))

    expect(asNumber).toMatchObject({ messages: [{ op: 0, d: { n: 1 }, t: 'NOTE' }], count: 1 })
    expect(await client.waitForMessages(1)).toEqual([{ op: 0, d: { n: 1 }, t: 'NOTE', s: 1 }])
  })

  it('costs one round trip', async () => {
    const reader = dispatcher()
    await reader.dispatch(note(1), [`one-trip-${transport}`])
    await reader.backlog('warm-up') // loads the script into Redis's cache, and opens the TCP connection
    let count = -1
    expect(await roundTrips(stack, transport, async () => ({ count } = await reader.backlog(`one-trip-${transport}`)))).toBe(1)
    expect(count).toBe(1)
  })

  it('is consistent while dispatches land: every read is a whole prefix of what is finally stored, its count its length', async () => {
    const writer = dispatcher()
    const reader = dispatcher()
    const id = `busy-${transport}`
    const reads: Array<{ ns: number[]; count: number; bytes: number }> = []
    let writing = true
    const readLoop = (async () => {
      while (writing) {
        const { messages, count, bytes } = await reader.backlog(id)
        reads.push({ ns: messages.map((message) => (message.d as { n: number }).n), count, bytes })
      }
    })()
    // 40 waves of 5 concurrent dispatches, each wave one script call, while the reader reads as fast as it can.
    for (let wave = 0; wave < 40; wave++) await Promise.all([0, 1, 2, 3, 4].map((j) => writer.dispatch(note(wave * 5 + j), [id])))
    writing = false
    await readLoop
    const final = await reader.backlog(id)
    const ns = final.messages.map((message) => (message.d as { n: number }).n)

    expect(ns).toEqual(Array.from({ length: 200 }, (_, n) => n))
    for (const read of reads) {
      expect(read.ns).toEqual(ns.slice(0, read.count))
      expect(read.bytes).toBe(read.count === 0 ? 0 : Buffer.byteLength(JSON.stringify(final.messages.slice(0, read.count))))
    }
    // The reads saw the backlog grow, not only its two ends.
    expect(new Set(reads.map((read) => read.count)).size).toBeGreaterThan(2)
  })
})

describe('Dispatcher.backlog refuses, before any request', () => {
  it.each<[string, unknown, string]>([
    ["'*'", '*', "recipient must name a client: '*' means every client in a dispatch, and names none"],
    ['an array', ['a'], 'recipient must be a string or a finite number, got an array'],
    ['nothing', undefined, 'recipient must be a string or a finite number, got a value of type undefined'],
    ['NaN', Number.NaN, 'recipient must be a string or a finite number, got NaN'],
    ['a lone surrogate', 'a\udc00', 'recipient must be well-formed UTF-16, without a lone surrogate'],
  ])('%s', async (_, id, message) => {
    const dispatcher = stack.dispatcher({ namespace })
    let error: unknown
    const requests = await stack.requestsDuring(() => dispatcher.backlog(id as Recipient).catch((caught: unknown) => (error = caught)))
    expect(error).toBeInstanceOf(ValidationError)
    expect({ requests, field: (error as ValidationError).field, message: (error as Error).message }).toEqual({ requests: 0, field: 'recipient', message })
  })
})
