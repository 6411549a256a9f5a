import type { IncomingMessage, ServerResponse } from 'node:http'
import fc from 'fast-check'
import type { Redis as IORedis } from 'ioredis'
import { describe, expect, it } from 'vitest'
import type { GatewayIntercept } from '../dev/upstash-gateway'
import { createMesaKeys } from '../src/core/keys'
import { type DispatcherConfig, IncompleteDispatchError, Message, PayloadTooLargeError } from '../src/index'
import { jsonStringBytes } from '../src/script/protocol'
import { useCleanup } from './support/cleanup'
import { useStack } from './support/stack'

// No script call writes more than maxWriteBytes of stored messages, and no request is bigger than
// maxRequestBytes: a dispatch whose stores need more is applied in parts, each atomic; one whose request would
// be too big is refused before anything is sent. Counted through the gateway, and with MONITOR, which lists
// each command a script runs.
let fault: GatewayIntercept | undefined
const stack = useStack({ intercept: (req: IncomingMessage, res: ServerResponse) => fault?.(req, res) ?? false })
const open = useCleanup()
const note = (n: number, text = '') => new Message(0, text ? { n, text } : { n }, 'NOTE')
const frame = (n: number) => JSON.stringify({ op: 0, d: { n }, t: 'NOTE' })
const ids = Array.from({ length: 10 }, (_, i) => `user-${i}`)

/** The bytes of stored values each script call wrote into `hash`, one entry per EVALSHA/EVAL, from MONITOR. */
async function recordWrites(hash: string): Promise<{ calls: number[]; close(): Promise<void> }> {
  const monitor = (await stack.admin.monitor()) as IORedis
  const calls: number[] = []
  let fenced = () => {}
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    const command = args[0]?.toLowerCase()
    if (command === 'echo' && args[1] === 'monitor-fence') fenced()
    else if ((command === 'evalsha' || command === 'eval') && source !== 'lua') calls.push(0)
    else if (command === 'hset' && source === 'lua' && args[1] === hash) {
      for (let i = 3; i < args.length; i += 2) calls[calls.length - 1]! += Buffer.byteLength(args[i]!)
    }
  })
  // MONITOR lines arrive after the replies they follow, so closing waits for a fence sent after everything else.
  let closing: Promise<void> | undefined
  const close = () =>
    (closing ??= (async () => {
      const seen = new Promise<void>((resolve) => (fenced = resolve))
      await stack.admin.echo('monitor-fence')
      await seen
      monitor.disconnect()
    })())
  return open({ calls, close })
}

/** A namespace whose ten recipients each hold a backlog of about 18 KB, written by the Dispatcher itself. */
async function fullBacklogs(config: DispatcherConfig = {}) {
  const namespace = stack.freshNamespace()
  const dispatcher = stack.dispatcher({ namespace, sync: { enabled: true, maxBytes: 20_000 }, maxWriteBytes: 50_000, ...config })
  for (const id of ids) await dispatcher.dispatch(note(0, 'x'.repeat(18_000)), [id])
  return { namespace, dispatcher, hash: `undelivered_messages_${namespace}` }
}

describe('a dispatch whose stores need more than one call may write', () => {
  it('is applied in parts, no call writing more than maxWriteBytes, every recipient stored once', async () => {
    const { dispatcher, hash } = await fullBacklogs()
    const writes = await recordWrites(hash)

    let result: Awaited<ReturnType<typeof dispatcher.dispatch>> | undefined
    const requests = await stack.requestsDuring(async () => (result = await dispatcher.dispatch(note(1), ids)))
    await writes.close()

    // Two 18 KB backlogs fit in 50 KB, three do not: five calls of two.
    expect({ requests, writes: writes.calls.map((bytes) => bytes <= 50_000 && bytes > 36_000) }).toEqual({ requests: 5, writes: Array(5).fill(true) })
    expect(result).toMatchObject({ offline: ids, unstored: [], stored: 10, dropped: 0, duplicate: false })
    for (const id of ids) expect((await stack.admin.hget(hash, id))!.split(frame(1)).length - 1).toBe(1)
  })

  it('claims one key for the whole dispatch, where no caller id can land, so the whole dispatch sent again applies nothing again', async () => {
    const { namespace, dispatcher, hash } = await fullBacklogs()
    await dispatcher.dispatch(note(1), ids, undefined, { id: 'in-parts' })
    const before = await stack.admin.hgetall(hash)

    expect(await dispatcher.dispatch(note(1), ids, undefined, { id: 'in-parts' })).toMatchObject({ duplicate: true, stored: 0 })

    expect(await stack.admin.hgetall(hash)).toEqual(before)
    const claimed = await stack.admin.keys(`mesa_dispatch_id:*${namespace}*`)
    // Its fingerprint alone: every recipient reached.
    expect({ claimed, value: await stack.admin.get(claimed[0]!) }).toEqual({
      claimed: [createMesaKeys(namespace).idempotency('dispatch', 'in-parts')],
      value: expect.stringMatching(/^[0-9a-f]{32}$/),
    })
  })

  it('fails with an IncompleteDispatchError saying what was reached when Redis fails between parts; the same id finishes it', async () => {
    const { dispatcher, hash } = await fullBacklogs({ maxWriteBytes: 40_000 })
    let passed = 0
    fault = (_req, res) => {
      if (++passed <= 1) return false
      res.writeHead(503).end()
      return true
    }
    const failure = await dispatcher.dispatch(note(1), ids, undefined, { id: 'interrupted' }).catch((error: unknown) => error)
    fault = undefined

    expect(failure).toBeInstanceOf(IncompleteDispatchError)
    expect({ stored: (failure as IncompleteDispatchError).applied.stored, remaining: (failure as IncompleteDispatchError).remaining }).toEqual({
      stored: 2,
      remaining: ids.slice(2),
    })
    expect(await dispatcher.dispatch(note(1), ids, undefined, { id: 'interrupted' })).toMatchObject({ stored: 8, duplicate: false })
    for (const id of ids) expect((await stack.admin.hget(hash, id))!.split(frame(1)).length - 1).toBe(1)
  })

  it('leaves a backlog that one call could never write untouched, and reports its recipient unstored', async () => {
    const namespace = stack.freshNamespace()
    const dispatcher = stack.dispatcher({ namespace, sync: { enabled: true, maxMessages: 0, maxBytes: 0 }, maxWriteBytes: 20_000 })
    const huge = `[${Array.from({ length: 300 }, (_, n) => JSON.stringify({ op: 0, d: { n, text: 'z'.repeat(80) } })).join(',')}]`
    await stack.admin.hset(`undelivered_messages_${namespace}`, 'hoarder', huge)

    expect(await dispatcher.dispatch(note(1), ['hoarder', 'other'])).toMatchObject({ offline: ['hoarder', 'other'], unstored: ['hoarder'], stored: 1 })
    expect(await stack.admin.hget(`undelivered_messages_${namespace}`, 'hoarder')).toBe(huge)
  })
})

describe('Redis at its maxmemory', () => {
  it('is written past by at most one call: the next part is refused at its first write, so a dispatch cannot flood it', async () => {
    const namespace = stack.freshNamespace()
    // No caps, so that each of forty offline recipients would get a 900 KB message: 36 MB in all.
    const dispatcher = stack.dispatcher({ namespace, sync: { enabled: true, maxMessages: 0, maxBytes: 0 } })
    await dispatcher.dispatch(note(0), ['loads-the-script'])
    const used = async () => Number(/used_memory:(\d+)/.exec(await stack.admin.info('memory'))![1])
    const limit = (await used()) + 4 * 1024 * 1024
    await stack.admin.config('SET', 'maxmemory-policy', 'noeviction')
    await stack.admin.config('SET', 'maxmemory', String(limit))
    let failure: unknown
    let peak = 0
    try {
      failure = await dispatcher
        .dispatch(
          note(1, 'z'.repeat(900_000)),
          ids.concat(
            ids.map((id) => `${id}-b`),
            ids.map((id) => `${id}-c`),
            ids.map((id) => `${id}-d`),
          ),
        )
        .catch((error: unknown) => error)
      peak = await used()
    } finally {
      await stack.admin.config('SET', 'maxmemory', '0')
    }

    expect(failure).toBeInstanceOf(IncompleteDispatchError)
    expect(((failure as IncompleteDispatchError).cause as Error).message).toMatch(/OOM command not allowed/)
    // Past the limit by less than one call's MAX_WRITE_BYTES (1 MiB), where one unbounded call wrote 36 MB.
    expect(peak - limit).toBeLessThan(1024 * 1024)
    expect(Object.keys(await stack.admin.hgetall(`undelivered_messages_${namespace}`)).length).toBeLessThan(10)
  })
})

describe('the request to Redis', () => {
  it('is measured exactly as the JSON body that carries it', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        expect(jsonStringBytes(text)).toBe(new TextEncoder().encode(JSON.stringify(text)).length)
      }),
      { numRuns: 2000 },
    )
  })

  it('refuses a dispatch that alone would be bigger than maxRequestBytes, before sending anything', async () => {
    const dispatcher = stack.dispatcher({ namespace: stack.freshNamespace(), maxRequestBytes: 65_536 })
    await dispatcher.dispatch(note(0), ['warm-up'])
    // 13,000 quotes are 13,000 characters but 26,000 bytes once escaped inside the message, and 52,000 escaped again in
    // the request, which also holds the script's text (its EVAL form, 16 KB).
    const quoted = new Message(0, { text: '"'.repeat(13_000) }, 'NOTE')
    let failure: unknown
    expect(await stack.requestsDuring(() => dispatcher.dispatch(quoted, ['a']).catch((error: unknown) => (failure = error)))).toBe(0)
    expect(failure).toBeInstanceOf(PayloadTooLargeError)
    expect((failure as PayloadTooLargeError).message).toMatch(/^the dispatch needs a Redis request of \d+ bytes, over MAX_REQUEST_BYTES \(65536\)/)
    expect(await stack.requestsDuring(() => dispatcher.dispatch(new Message(0, { text: '"'.repeat(1_000) }, 'NOTE'), ['a']))).toBe(1)
  })
})
