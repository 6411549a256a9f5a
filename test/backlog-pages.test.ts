import type { IncomingMessage, ServerResponse } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  BacklogChangedError,
  type BacklogMessage,
  type BacklogResult,
  BacklogTooLargeError,
  type Dispatcher,
  type DispatcherConfig,
  Message,
  RateLimitedError,
  type Recipient,
  ValidationError,
} from '../src/index'
import { BACKLOG_PAGE_ENVELOPE_BYTES, BACKLOG_RANGE_BYTES, DEFAULT_MAX_BACKLOG_PAGE_BYTES } from '../src/limits'
import { useCleanup } from './support/cleanup'
import { largeBacklog, pageBody } from './support/large-backlog'
import { connectMesaClient } from './support/mesa-client'
import { createMesaDispatcher, Message as MesaMessage } from './support/mesa-dispatcher'
import { type MesaServer, startMesaServer } from './support/mesa-server'
import { awayFromWindowEnd } from './support/rate-window'
import { roundTrips } from './support/round-trips'
import { TRANSPORTS, type Transport, useStack } from './support/stack'

// Dispatcher.backlog in pages, against a real redis-server (through the local Upstash gateway, and over TCP), real
// Mesa 1.5.8 servers and Mesa's own Dispatcher: every page within its bounds, the pages together every message
// once and in order, and a backlog that changes between pages either paged on or refused, never half-listed.

/** Runs before the gateway forwards each request, while set: to count what it answers, or to change Redis first. */
let beforeForward: ((req: IncomingMessage, res: ServerResponse) => Promise<void> | void) | undefined
const stack = useStack({
  intercept: async (req, res) => {
    await beforeForward?.(req, res)
    return false
  },
})
const open = useCleanup()
let mesa: MesaServer
let namespace: string
let hash: string

beforeAll(async () => {
  namespace = stack.freshNamespace()
  hash = `undelivered_messages_${namespace}`
  mesa = await startMesaServer({ redisUrl: stack.redis.url, namespace })
  // As a warm Redis holds them: a count of requests then holds no EVAL after a NOSCRIPT.
  await stack.loadScripts()
})
afterAll(() => mesa.close())

const note = (n: number) => new Message(0, { n }, 'NOTE')
const ns = (messages: BacklogMessage[]) => messages.map((message) => (message.d as { n: number }).n)

/** Reads every page of `id`'s backlog, each asked with the cursor of the one before (Dispatcher.backlogPages). */
async function readPages(dispatcher: Dispatcher, id: Recipient, limit?: number): Promise<BacklogResult[]> {
  const pages: BacklogResult[] = []
  for await (const page of dispatcher.backlogPages(id, limit ? { limit } : {})) pages.push(page)
  return pages
}

/** What a page must say of itself: how many it lists, the stored bytes and total, and whether more remain. */
const shape = (page: BacklogResult) => ({
  count: page.count,
  listed: page.messages.length,
  bytes: page.bytes,
  total: page.total,
  more: page.cursor !== null,
  truncated: page.truncated,
})

/** The bytes of each reply the gateway sends while `work` runs. */
async function repliesDuring(work: () => Promise<unknown>): Promise<number[]> {
  const sizes: number[] = []
  beforeForward = (_req, res) => {
    const end = res.end.bind(res) as (chunk?: unknown) => ServerResponse
    res.end = ((chunk?: unknown) => {
      sizes.push(typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk instanceof Buffer ? chunk.length : 0)
      return end(chunk)
    }) as typeof res.end
  }
  try {
    await work()
  } finally {
    beforeForward = undefined
  }
  return sizes
}

describe.each(TRANSPORTS)('a backlog read in pages over %s', (transport: Transport) => {
  const dispatcher = (config: DispatcherConfig = {}): Dispatcher => stack.dispatcher({ namespace, sync: { enabled: true }, ...config }, transport)

  it('pages a 6.7 MB backlog Mesa’s own Dispatcher wrote: each page under 1 MiB, every message once and in order, a message Mesa appends between pages included', async () => {
    const id = `huge-${transport}`
    const backlog = largeBacklog(6_700_000)
    await stack.admin.hset(hash, id, backlog.value)
    const reader = dispatcher()
    const pages: BacklogResult[] = []
    const requests: number[] = []
    let cursor: string | null = null
    do {
      const read = cursor
      requests.push(await roundTrips(stack, transport, async () => pages.push(await reader.backlog(id, { cursor: read }))))
      cursor = pages.at(-1)!.cursor
      if (pages.length === 3) {
        // Mesa's own Dispatcher stores one more message for the offline client: it rewrites the whole value.
        const mesaDispatcher = createMesaDispatcher(stack.redis.url, { namespace, sync: { enabled: true } })
        mesaDispatcher.dispatcher.dispatch(new MesaMessage(0, { n: -1 }, 'LATE'), [id])
        await mesaDispatcher.close()
      }
    } while (cursor !== null)
    const stored = (await stack.admin.hget(hash, id)) ?? ''
    const all = [...backlog.messages, { op: 0, d: { n: -1 }, t: 'LATE' }]
    const storedBytes = Buffer.byteLength(stored)

    expect(pages.flatMap((page) => page.messages)).toEqual(all)
    expect(pages.map((page) => Buffer.byteLength(pageBody(page)) <= DEFAULT_MAX_BACKLOG_PAGE_BYTES)).toEqual(pages.map(() => true))
    expect(pages.map(shape)).toEqual(
      pages.map((page, index) => ({
        count: page.messages.length,
        listed: page.messages.length,
        bytes: index < 3 ? Buffer.byteLength(backlog.value) : storedBytes,
        total: index < 3 ? backlog.messages.length : all.length,
        more: index < pages.length - 1,
        truncated: index < pages.length - 1,
      })),
    )
    expect(pages.at(-1)).toMatchObject({ cursor: null, truncated: false })
    // Each page but the last is full: its next message would not have fitted beside the answer's other fields.
    const arrayBytes = (messages: BacklogMessage[]) => Buffer.byteLength(JSON.stringify(messages))
    expect(
      pages
        .slice(0, -1)
        .map((page, index) => arrayBytes([...page.messages, pages[index + 1]!.messages[0]!]) > DEFAULT_MAX_BACKLOG_PAGE_BYTES - BACKLOG_PAGE_ENVELOPE_BYTES),
    ).toEqual(pages.slice(0, -1).map(() => true))
    // Every page reads the whole value (HGET reads all of a hash field or nothing), in 1 MiB ranges, one request each.
    expect({ pages: pages.length, requests }).toEqual({
      pages: 6,
      requests: pages.map((_, index) => Math.ceil((index < 3 ? Buffer.byteLength(backlog.value) : storedBytes) / BACKLOG_RANGE_BYTES)),
    })
  }, 120_000)

  it('reads a backlog of the largest readable size with no reply larger than a range, and a value larger than that with one request that reads nothing', async () => {
    const id = `bounded-${transport}`
    const backlog = largeBacklog(2 * BACKLOG_RANGE_BYTES + 1000)
    const bytes = Buffer.byteLength(backlog.value)
    await stack.admin.hset(hash, id, backlog.value)
    const reader = dispatcher({ maxBacklogReadBytes: bytes })
    const narrower = dispatcher({ maxBacklogReadBytes: bytes - 1 })
    let first: BacklogResult | undefined
    const replies = transport === 'rest' ? await repliesDuring(async () => (first = await reader.backlog(id))) : []
    let error: unknown
    const refusals = await roundTrips(stack, transport, () => narrower.backlog(id).catch((caught: unknown) => (error = caught)))

    if (transport === 'rest') {
      // Three ranges, each in a reply no larger than its JSON string, where a quote or backslash takes two bytes.
      expect(replies.map((size) => size <= 2 * BACKLOG_RANGE_BYTES + 200)).toEqual([true, true, true])
      expect(first!.messages).toEqual(backlog.messages.slice(0, first!.count))
    }
    expect(error).toBeInstanceOf(BacklogTooLargeError)
    expect({
      refusals,
      variable: (error as BacklogTooLargeError).variable,
      limit: (error as BacklogTooLargeError).limit,
      message: (error as Error).message,
    }).toEqual({
      refusals: 1,
      variable: 'MAX_BACKLOG_READ_BYTES',
      limit: bytes - 1,
      message: `the backlog is ${bytes} bytes, more than MAX_BACKLOG_READ_BYTES (${bytes - 1}) lets one read take from Redis: raise it to read it, or clear the backlog`,
    })
  }, 60_000)

  it('answers a small backlog in one page and one request, and pages of at most `limit` messages when asked', async () => {
    const id = `small-${transport}`
    const writer = dispatcher()
    for (let n = 0; n < 5; n++) await writer.dispatch(note(n), [id])
    const bytes = Buffer.byteLength((await stack.admin.hget(hash, id)) ?? '')
    await writer.backlog('warm-up')
    let whole: BacklogResult | undefined
    const requests = await roundTrips(stack, transport, async () => (whole = await writer.backlog(id)))
    const pages = await readPages(writer, id, 2)

    expect({ requests, whole }).toEqual({
      requests: 1,
      whole: { messages: [0, 1, 2, 3, 4].map((n) => ({ op: 0, d: { n }, t: 'NOTE' })), count: 5, bytes, total: 5, cursor: null, truncated: false },
    })
    expect(pages.map((page) => ({ ns: ns(page.messages), total: page.total, truncated: page.truncated }))).toEqual([
      { ns: [0, 1], total: 5, truncated: true },
      { ns: [2, 3], total: 5, truncated: true },
      { ns: [4], total: 5, truncated: false },
    ])
  })

  it('goes on after dispatches append between pages, and lists the new messages too', async () => {
    const id = `growing-${transport}`
    const writer = dispatcher()
    for (let n = 0; n < 4; n++) await writer.dispatch(note(n), [id])
    const first = await writer.backlog(id, { limit: 3 })
    await writer.dispatch(note(4), [id])
    await writer.dispatch(note(5), [id])
    const second = await writer.backlog(id, { cursor: first.cursor, limit: 3 })

    expect([ns(first.messages), first.total, ns(second.messages), second.total, second.cursor]).toEqual([[0, 1, 2], 4, [3, 4, 5], 6, null])
  })

  it('refuses the next page, naming cursor, when the caps dropped the oldest messages since, and reads it again from the first page', async () => {
    const id = `capped-${transport}`
    const writer = dispatcher({ sync: { enabled: true, maxMessages: 4 } })
    for (let n = 0; n < 4; n++) await writer.dispatch(note(n), [id])
    const first = await writer.backlog(id, { limit: 2 })
    await writer.dispatch(note(4), [id])
    const error = await writer.backlog(id, { cursor: first.cursor }).catch((caught: unknown) => caught)
    const again = await readPages(writer, id)

    expect(error).toBeInstanceOf(BacklogChangedError)
    expect({ field: (error as BacklogChangedError).field, message: (error as Error).message }).toEqual({
      field: 'cursor',
      message:
        'the backlog changed since this cursor was given: its first 2 messages are no longer the ones the pages before listed (a login delivered it, a clear removed it, or the caps dropped its oldest messages); read it again from the first page',
    })
    expect(again.map((page) => ns(page.messages))).toEqual([[1, 2, 3, 4]])
  })

  it('refuses the next page when a Mesa login delivered the backlog since, even once new messages are stored for the client', async () => {
    const id = `delivered-${transport}`
    const writer = dispatcher()
    for (let n = 0; n < 3; n++) await writer.dispatch(note(n), [id])
    const first = await writer.backlog(id, { limit: 1 })
    const client = open(await connectMesaClient(mesa.url, id))
    await client.waitForMessages(3)
    const gone = await writer.backlog(id, { cursor: first.cursor }).catch((caught: unknown) => caught)
    await client.close()
    await writer.dispatch(note(7), [id])
    const rewritten = await writer.backlog(id, { cursor: first.cursor }).catch((caught: unknown) => caught)

    expect([gone, rewritten].map((error) => [(error as Error).name, (error as BacklogChangedError).field])).toEqual([
      ['BacklogChangedError', 'cursor'],
      ['BacklogChangedError', 'cursor'],
    ])
    expect(await readPages(writer, id)).toEqual([
      { messages: [{ op: 0, d: { n: 7 }, t: 'NOTE' }], count: 1, bytes: expect.any(Number), total: 1, cursor: null, truncated: false },
    ])
  })

  it('refuses a message larger than a page, naming MAX_BACKLOG_PAGE_BYTES', async () => {
    const id = `wide-${transport}`
    const wider = { op: 0, d: 'y'.repeat(2000), t: 'WIDER' }
    await stack.admin.hset(hash, id, JSON.stringify([{ op: 0, d: 'x'.repeat(400), t: 'WIDE' }, wider]))
    const reader = dispatcher({ maxBacklogPageBytes: 1024 })
    const first = await reader.backlog(id)
    const error = await reader.backlog(id, { cursor: first.cursor }).catch((caught: unknown) => caught)

    expect([first.count, first.total, Buffer.byteLength(pageBody(first)) <= 1024]).toEqual([1, 2, true])
    expect(error).toBeInstanceOf(BacklogTooLargeError)
    expect({ variable: (error as BacklogTooLargeError).variable, message: (error as Error).message }).toEqual({
      variable: 'MAX_BACKLOG_PAGE_BYTES',
      message: `message 2 of the backlog is ${JSON.stringify(wider).length} bytes as Mesa would redeliver it, more than a page of MAX_BACKLOG_PAGE_BYTES (1024) holds beside the answer's other fields: raise it (at most 2621440) to read it, or clear the backlog`,
    })
  })

  it('counts each page as one request against a rate limit, however many ranges it reads', async () => {
    const id = `charged-${transport}`
    await stack.admin.hset(hash, id, largeBacklog(BACKLOG_RANGE_BYTES + 1000).value)
    const rateLimit = { name: `pages-${transport}`, requests: 2, windowSeconds: 3600 }
    // Its three reads must fall in one window, which starts on the hour: a run across it counted the third afresh.
    await awayFromWindowEnd(rateLimit.windowSeconds)
    const reader = dispatcher({ maxBacklogPageBytes: 400_000 })
    const first = await reader.backlog(id, { rateLimit })
    const second = await reader.backlog(id, { cursor: first.cursor, rateLimit })
    const third = await reader.backlog(id, { cursor: second.cursor, rateLimit }).catch((caught: unknown) => caught)

    expect([first.truncated, second.truncated, third instanceof RateLimitedError]).toEqual([true, true, true])
  })
})

describe('a backlog read refuses, before any request', () => {
  it.each<[string, unknown, string, string]>([
    ['a cursor that is not one', 'page-2', 'cursor', 'cursor must be the cursor a previous page of this backlog answered, or null for the first page'],
    [
      'a number for a cursor',
      2,
      'cursor',
      'cursor must be the cursor a previous page of this backlog answered, or null for the first page, not a value of type number',
    ],
    ['a limit of 0', 0, 'limit', 'limit must be a whole number of at least 1'],
    ['a fractional limit', 1.5, 'limit', 'limit must be a whole number of at least 1'],
  ])('%s', async (_, value, field, message) => {
    const reader = stack.dispatcher({ namespace })
    let error: unknown
    const requests = await stack.requestsDuring(() => reader.backlog('a', { [field]: value }).catch((caught: unknown) => (error = caught)))
    expect(error).toBeInstanceOf(ValidationError)
    expect({ requests, field: (error as ValidationError).field, message: (error as Error).message }).toEqual({ requests: 0, field, message })
  })

  it("the cursor of another recipient's backlog, or of the same id in another namespace", async () => {
    const writer = stack.dispatcher({ namespace, sync: { enabled: true } })
    for (let n = 0; n < 3; n++) await writer.dispatch(note(n), ['owner'])
    const { cursor } = await writer.backlog('owner', { limit: 1 })
    const elsewhere = stack.dispatcher({ namespace: `${namespace}x`, sync: { enabled: true } })
    const errors: unknown[] = []
    const requests = await stack.requestsDuring(async () => {
      errors.push(await writer.backlog('other', { cursor }).catch((caught: unknown) => caught))
      errors.push(await elsewhere.backlog('owner', { cursor }).catch((caught: unknown) => caught))
    })
    expect({ requests, errors: errors.map((error) => [(error as Error).name, (error as ValidationError).field, (error as Error).message]) }).toEqual({
      requests: 0,
      errors: [0, 1].map(() => [
        'ValidationError',
        'cursor',
        "cursor belongs to another recipient's backlog (or namespace): it must be the cursor a previous page of this backlog answered, or null for the first page",
      ]),
    })
  })
})

describe('a backlog rewritten between the ranges of one page', () => {
  it('is read again from its start, and the page lists the value as it is now', async () => {
    const id = 'rewritten-mid-read'
    const before = largeBacklog(BACKLOG_RANGE_BYTES + 1000)
    await stack.admin.hset(hash, id, before.value)
    const reader = stack.dispatcher({ namespace, sync: { enabled: true } })
    await reader.backlog('warm-up')
    let seen = 0
    // The second range's request finds the value rewritten by another writer: one message fewer.
    beforeForward = async () => {
      seen++
      if (seen === 2) await stack.admin.hset(hash, id, JSON.stringify(JSON.parse(before.value).slice(1)))
    }
    let page: BacklogResult | undefined
    const requests = await stack.requestsDuring(async () => (page = await reader.backlog(id, { limit: 2 })))
    beforeForward = undefined

    // A first range, the refused second, then both ranges of the value as rewritten.
    expect({ requests, ns: ns(page!.messages), total: page!.total }).toEqual({ requests: 4, ns: [1, 2], total: before.messages.length - 1 })
  })
})
