import type { IncomingMessage } from 'node:http'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { GatewayIntercept } from '../dev/upstash-gateway'
import { type ClearBacklogResult, type Dispatcher, Message, type Recipient, ValidationError } from '../src/index'
import { CLEAR_COUNT_BYTES } from '../src/limits'
import { useCleanup } from './support/cleanup'
import { connectMesaClient } from './support/mesa-client'
import { type MesaServer, startMesaServer } from './support/mesa-server'
import { roundTrips } from './support/round-trips'
import { TRANSPORTS, useStack } from './support/stack'

// Dispatcher.clearBacklog against a real Mesa 1.5.8 server: a cleared backlog is gone for good, in one atomic call.
let fault: GatewayIntercept | undefined
const stack = useStack({ intercept: (req, res) => fault?.(req, res) ?? false })
const open = useCleanup()
let mesa: MesaServer
let namespace: string
let hash: string
let index: string

beforeAll(async () => {
  namespace = stack.freshNamespace()
  hash = `undelivered_messages_${namespace}`
  index = `mesa_dispatch_backlogs_${namespace}`
  mesa = await startMesaServer({ redisUrl: stack.redis.url, namespace })
})
afterAll(() => mesa.close())
afterEach(() => {
  fault = undefined
})

const note = (n: number) => new Message(0, { n }, 'NOTE')
const bytesOf = (value: string | null) => Buffer.byteLength(value ?? '')

describe.each(TRANSPORTS)('Dispatcher.clearBacklog over %s', (transport) => {
  const dispatcher = (): Dispatcher => stack.dispatcher({ namespace, sync: { enabled: true } }, transport)

  it('removes a backlog and its index entry, says what it held, and Mesa redelivers nothing at the next login', async () => {
    const sender = dispatcher()
    const id = `cleared-${transport}`
    await sender.dispatch(note(1), [id])
    await sender.dispatch(note(2), [id])
    const stored = await stack.admin.hget(hash, id)

    const result = await sender.clearBacklog([id, 'never-stored', id])
    const left = { value: await stack.admin.hexists(hash, id), entry: await stack.admin.hexists(index, id), keeper: await stack.admin.hexists(index, '') }
    const client = open(await connectMesaClient(mesa.url, id))
    await client.expectNoMoreMessages(300)
    await sender.dispatch(note(3), [id])

    expect(result).toEqual({
      cleared: [
        { recipient: id, messages: 2, bytes: bytesOf(stored) },
        { recipient: 'never-stored', messages: 0, bytes: 0 },
        { recipient: id, messages: 0, bytes: 0 },
      ],
      duplicate: false,
    })
    expect(left).toEqual({ value: 0, entry: 0, keeper: 1 })
    expect(await client.waitForMessages(1)).toEqual([{ op: 0, d: { n: 3 }, t: 'NOTE' }])
  })

  it('counts backlogs someone else wrote as Mesa would redeliver them, and removes one too large to count all the same', async () => {
    const cleaner = dispatcher()
    // More bytes than one call may read to count messages, though every one is valid.
    const big = `[${Array.from({ length: Math.ceil(CLEAR_COUNT_BYTES / 10) }, (_, n) => `{"op":0,"d":${n}}`).join(',')}]`
    const values: Record<string, string> = {
      [`foreign-${transport}`]: '[{"op":0,"d":1},{"op":0,"d":2,"extra":true}]',
      [`stuck-${transport}`]: '[{"op":0,"d":1},null]',
      [`big-${transport}`]: big,
    }
    await stack.admin.hset(hash, values)
    // An index entry that no longer matches its value (someone rewrote it) is not trusted.
    await stack.admin.hset(index, `foreign-${transport}`, '999:7:1:1')

    const result = await cleaner.clearBacklog([`foreign-${transport}`, `stuck-${transport}`, `big-${transport}`])

    expect(result.cleared).toEqual([
      { recipient: `foreign-${transport}`, messages: 2, bytes: bytesOf(values[`foreign-${transport}`]!) },
      { recipient: `stuck-${transport}`, messages: 0, bytes: bytesOf(values[`stuck-${transport}`]!) },
      { recipient: `big-${transport}`, messages: null, bytes: bytesOf(big) },
    ])
    expect(await stack.admin.hmget(hash, `foreign-${transport}`, `stuck-${transport}`, `big-${transport}`)).toEqual([null, null, null])
    expect(await stack.admin.hexists(index, `foreign-${transport}`)).toBe(0)
  })

  it('clears the field a number id names, its decimal string, and answers the id as given', async () => {
    const cleaner = dispatcher()
    await cleaner.dispatch(note(1), [`4${transport.length}`])
    expect(await cleaner.clearBacklog([Number(`4${transport.length}`)])).toEqual({
      cleared: [{ recipient: Number(`4${transport.length}`), messages: 1, bytes: bytesOf('[{"op":0,"d":{"n":1},"t":"NOTE"}]') }],
      duplicate: false,
    })
  })

  it('is atomic against concurrent dispatches: every message is either cleared or still stored, none twice, and the index stays true', async () => {
    const sender = dispatcher()
    const cleaner = dispatcher()
    const id = `contended-${transport}`
    const clears: Promise<ClearBacklogResult>[] = []
    for (let wave = 0; wave < 20; wave++) {
      const dispatches = [0, 1, 2, 3, 4].map((j) => sender.dispatch(note(wave * 5 + j), [id]))
      if (wave % 3 === 0) clears.push(cleaner.clearBacklog([id]))
      await Promise.all(dispatches)
    }
    const removed = (await Promise.all(clears)).reduce((sum, { cleared }) => sum + (cleared[0]!.messages ?? Number.NaN), 0)
    const left = await cleaner.backlog(id)
    const entry = await stack.admin.hget(index, id)

    expect(removed + left.count).toBe(100)
    expect(removed).toBeGreaterThan(0)
    // The index entry describes the value as it is, so the next dispatch and the cleanup can trust it.
    expect(entry === null ? left.count : Number(entry.split(':')[1])).toBe(left.count)
    expect(entry === null ? 0 : Number(entry.split(':')[0])).toBe(left.bytes)
  })

  it('costs one round trip for up to MAX_RECIPIENTS ids, and none for no id', async () => {
    const cleaner = dispatcher()
    const ids = Array.from({ length: 10_000 }, (_, i) => `many-${transport}-${i}`)
    await cleaner.dispatch(note(1), [ids[0]!, ids[9_999]!])
    await cleaner.clearBacklog(['warm-up']) // loads the script into Redis's cache, and opens the TCP connection

    let cleared: Array<{ messages: number | null }> = []
    const trips = [
      await roundTrips(stack, transport, async () => ({ cleared } = await cleaner.clearBacklog(ids))),
      await roundTrips(stack, transport, () => cleaner.clearBacklog([])),
    ]
    expect({ trips, messages: cleared.reduce((sum, each) => sum + (each.messages ?? 0), 0), entries: cleared.length }).toEqual({
      trips: [1, 0],
      messages: 2,
      entries: 10_000,
    })
  })

  it('removes nothing again for an id it has seen inside the dedupe window', async () => {
    const cleaner = dispatcher()
    const id = `idempotent-${transport}`
    const key = `clear-${transport}-${crypto.randomUUID()}`
    await cleaner.dispatch(note(1), [id])
    const first = await cleaner.clearBacklog([id], { id: key })
    await cleaner.dispatch(note(2), [id])
    const again = await cleaner.clearBacklog([id], { id: key })

    expect([first, again]).toEqual([
      { cleared: [{ recipient: id, messages: 1, bytes: bytesOf('[{"op":0,"d":{"n":1},"t":"NOTE"}]') }], duplicate: false },
      { cleared: [{ recipient: id, messages: 0, bytes: 0 }], duplicate: true },
    ])
    expect((await cleaner.backlog(id)).count).toBe(1)
  })
})

describe('Dispatcher.clearBacklog over REST', () => {
  it('answers a retried call with what the first attempt removed, removing nothing twice', async () => {
    const cleaner = stack.dispatcher({ namespace, sync: { enabled: true } })
    const id = 'retried'
    await cleaner.dispatch(note(1), [id])
    await cleaner.clearBacklog(['warm-up'])
    // The first attempt reaches Redis, but its answer is lost: the transport retries the same call.
    fault = async (req, res) => {
      if (req.headers['x-test-forwarded']) return false
      fault = undefined
      await fetch(`${stack.gateway.url}${req.url}`, {
        method: 'POST',
        headers: { authorization: String(req.headers.authorization), 'content-type': 'application/json', 'x-test-forwarded': '1' },
        body: await bodyOf(req),
      })
      res.writeHead(502).end()
      return true
    }
    let result: unknown
    const requests = await stack.requestsDuring(async () => (result = await cleaner.clearBacklog([id])))

    expect({ requests, result }).toEqual({
      requests: 3,
      result: { cleared: [{ recipient: id, messages: 1, bytes: bytesOf('[{"op":0,"d":{"n":1},"t":"NOTE"}]') }], duplicate: false },
    })
  })
})

describe('Dispatcher.clearBacklog refuses, before any request', () => {
  it.each<[string, unknown, string, string]>([
    ["'*'", ['*'], 'recipients[0]', "recipients[0] must name a client: '*' means every client in a dispatch, and names none"],
    ['ids that are not an array', 'a', 'recipients', 'recipients must be an array of strings or numbers, got a value of type string'],
    ['an empty id', ['a'], 'id', 'id must be a non-empty string of at most 256 characters'],
  ])('%s', async (_, ids, field, message) => {
    const dispatcher = stack.dispatcher({ namespace })
    let error: unknown
    const options = field === 'id' ? { id: '' } : {}
    const requests = await stack.requestsDuring(() => dispatcher.clearBacklog(ids as Recipient[], options).catch((caught: unknown) => (error = caught)))
    expect(error).toBeInstanceOf(ValidationError)
    expect({ requests, field: (error as ValidationError).field, message: (error as Error).message }).toEqual({ requests: 0, field, message })
  })
})

async function bodyOf(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}
