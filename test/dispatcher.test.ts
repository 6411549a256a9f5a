import { beforeAll, describe, expect, it } from 'vitest'
import { DispatchEvent, Dispatcher, Message, RedisUnavailableError } from '../src/index'
import { useCleanup } from './support/cleanup'
import { connectMesaClient, type MesaClient } from './support/mesa-client'
import { type MesaServer, startMesaServer } from './support/mesa-server'
import { freePort } from './support/ports'
import { TRANSPORTS, type Transport, useStack } from './support/stack'

// Our Dispatcher, through the Upstash gateway, against a real Mesa 1.5.8 server and real WebSocket clients.
const stack = useStack()
const open = useCleanup()

async function mesa(namespace: string): Promise<MesaServer> {
  const server = await startMesaServer({ redisUrl: stack.redis.url, namespace })
  return (
    open({
      close: async () => {
        await server.close()
        expect(server.errors).toEqual([])
      },
    }) && server
  )
}
const client = async (server: MesaServer, token: string | number, shouldSync?: boolean): Promise<MesaClient> =>
  open(await connectMesaClient(server.url, token, shouldSync === undefined ? {} : { shouldSync }))

let transport: Transport = 'rest'
/** A fresh namespace with its Mesa server and a Dispatcher for it over the transport under test. */
async function setup(sync = true) {
  const namespace = stack.freshNamespace()
  return { namespace, server: await mesa(namespace), dispatcher: stack.dispatcher({ namespace, sync: { enabled: sync } }, transport) }
}
const note = (n: number) => new Message(0, { n }, 'NOTE')
const noteFrame = (n: number) => ({ op: 0, d: { n }, t: 'NOTE' })

describe.each(TRANSPORTS)('Dispatcher over %s against a real Mesa 1.5.8 server', (under) => {
  beforeAll(() => {
    transport = under
  })

  it('delivers a targeted dispatch only to the named clients, as the exact frame', async () => {
    const { server, dispatcher } = await setup()
    const [a, b, c] = [await client(server, 'a'), await client(server, 'b'), await client(server, 'c')]

    const result = await dispatcher.dispatch(new Message(0, { status: 'online' }, 'STATUS_UPDATE'), ['a', 'b'])
    await dispatcher.dispatch(note(1), ['c']) // a fence: c's first frame must be this one

    expect(result).toEqual({
      servers: 1,
      recipients: ['a', 'b'],
      online: ['a', 'b'],
      offline: [],
      unstored: [],
      stored: 0,
      dropped: 0,
      duplicate: false,
      excludingIgnored: false,
    })
    await Promise.all([a.waitForMessages(1), b.waitForMessages(1)])
    expect([a.raw, b.raw]).toEqual([['{"op":0,"d":{"status":"online"},"t":"STATUS_UPDATE"}'], ['{"op":0,"d":{"status":"online"},"t":"STATUS_UPDATE"}']])
    expect(await c.waitForMessages(1)).toEqual([noteFrame(1)])
  })

  it('applies the dispatches issued just before close(), and leaves no connection open after them', async () => {
    const { server, dispatcher } = await setup()
    const a = await client(server, 'a')
    const connections = async () =>
      String(await stack.admin.client('LIST'))
        .trim()
        .split('\n').length
    const before = await connections()

    const pending = [dispatcher.dispatch(note(1), ['a']), dispatcher.dispatch(note(2), ['a'])]
    await dispatcher.close()

    expect((await Promise.all(pending)).map((result) => result.online)).toEqual([['a'], ['a']])
    expect(await a.waitForMessages(2)).toEqual([noteFrame(1), noteFrame(2)])
    // Redis drops a client just after answering its QUIT, so the count is given a moment to come back.
    for (let tries = 0; tries < 50 && (await connections()) !== before; tries++) await new Promise((resolve) => setTimeout(resolve, 20))
    expect(await connections()).toBe(before)
  })

  it("delivers '*', and omitted recipients, once to every client", async () => {
    const { server, dispatcher } = await setup()
    const clients = [await client(server, 'a'), await client(server, 'b')]

    const everyone = await dispatcher.dispatch(note(1), ['*'])
    const omitted = await dispatcher.dispatch(note(2))

    expect([everyone.recipients, omitted.recipients, omitted.online]).toEqual([['*'], ['*'], []])
    for (const each of clients) {
      expect(await each.waitForMessages(2)).toEqual([noteFrame(1), noteFrame(2)])
      await each.expectNoMoreMessages(100)
    }
  })

  it("removes excluded ids from targeted recipients, and says when '*' makes excluding moot", async () => {
    const { server, dispatcher } = await setup()
    const [a, b] = [await client(server, 'a'), await client(server, 'b')]

    const targeted = await dispatcher.dispatch(note(1), ['a', 'b'], ['b'])
    const global = await dispatcher.dispatch(note(2), ['*'], ['b'])

    expect([targeted.recipients, targeted.excludingIgnored, global.recipients, global.excludingIgnored]).toEqual([['a'], false, ['*'], true])
    expect(await a.waitForMessages(2)).toEqual([noteFrame(1), noteFrame(2)])
    expect(await b.waitForMessages(1)).toEqual([noteFrame(2)])
  })

  it('keeps numeric and string ids apart, as Mesa compares them strictly', async () => {
    const { server, dispatcher } = await setup(false)
    const [numeric, text] = [await client(server, 7), await client(server, '8')]

    await dispatcher.dispatch(note(1), ['7', 8])
    await dispatcher.dispatch(note(2), [7, '8'])

    expect(await numeric.waitForMessages(1)).toEqual([noteFrame(2)])
    expect(await text.waitForMessages(1)).toEqual([noteFrame(2)])
  })

  it('keeps two namespaces apart', async () => {
    const first = await setup()
    const second = await setup()
    const [inFirst, inSecond] = [await client(first.server, 'same-id'), await client(second.server, 'same-id')]

    await first.dispatcher.dispatch(note(1), ['same-id'])
    await second.dispatcher.dispatch(note(2), ['*'])

    expect(await inFirst.waitForMessages(1)).toEqual([noteFrame(1)])
    expect(await inSecond.waitForMessages(1)).toEqual([noteFrame(2)])
    await Promise.all([inFirst.expectNoMoreMessages(100), inSecond.expectNoMoreMessages(100)])
  })

  it('stores messages for an offline client and Mesa redelivers them with s = 1..N in order', async () => {
    const { server, dispatcher } = await setup()
    const results = []
    for (let n = 1; n <= 3; n++) results.push(await dispatcher.dispatch(note(n), ['later']))

    expect(results.map(({ online, offline, stored, recipients }) => ({ online, offline, stored, recipients }))).toEqual(
      Array(3).fill({ online: [], offline: ['later'], stored: 1, recipients: [] }),
    )
    const later = await client(server, 'later')
    expect(await later.waitForMessages(3)).toEqual([1, 2, 3].map((n) => ({ ...noteFrame(n), s: n })))
  })

  it('does not store a message whose options say sync: false', async () => {
    const { server, dispatcher } = await setup()
    const result = await dispatcher.dispatch(new Message(0, { n: 1 }, 'NOTE', { sync: false }), ['later'])
    await dispatcher.dispatch(note(2), ['later'])

    expect({ stored: result.stored, offline: result.offline }).toEqual({ stored: 0, offline: ['later'] })
    expect(await (await client(server, 'later')).waitForMessages(1)).toEqual([{ ...noteFrame(2), s: 1 }])
  })

  it('closes only the targeted client with code 1000 on DISCONNECT_CLIENT, and stores nothing', async () => {
    const { namespace, server, dispatcher } = await setup()
    const [target, bystander] = [await client(server, 'target'), await client(server, 'bystander')]

    const result = await dispatcher.dispatch(new DispatchEvent('DISCONNECT_CLIENT'), ['target', 'offline-one'])
    await dispatcher.dispatch(note(1), ['bystander'])

    expect(await target.closed).toEqual({ code: 1000 })
    expect(await bystander.waitForMessages(1)).toEqual([noteFrame(1)])
    expect({ result, stored: await stack.admin.hgetall(`undelivered_messages_${namespace}`) }).toEqual({
      result: {
        servers: 1,
        recipients: ['target', 'offline-one'],
        online: null,
        offline: [],
        unstored: [],
        stored: 0,
        dropped: 0,
        duplicate: false,
        excludingIgnored: false,
      },
      stored: {},
    })
  })

  it('keeps all 200 of 200 concurrent dispatches to one offline client, where Mesa kept 1', async () => {
    const { namespace, server, dispatcher } = await setup()
    const results = await Promise.all(Array.from({ length: 200 }, (_, n) => dispatcher.dispatch(note(n), ['offline'])))

    expect(results.reduce((sum, { stored }) => sum + stored, 0)).toBe(200)
    const stored = JSON.parse((await stack.admin.hget(`undelivered_messages_${namespace}`, 'offline'))!) as unknown[]
    expect(stored.map((message) => (message as { d: { n: number } }).d.n).sort((x, y) => x - y)).toEqual([...Array(200).keys()])
    const frames = await (await client(server, 'offline')).waitForMessages(200, 15_000)
    expect(frames.map((frame) => frame.s)).toEqual([...Array(200).keys()].map((n) => n + 1))
  })

  it('delivers and stores payloads byte for byte: unicode, [], {}, floats and null', async () => {
    const { namespace, server, dispatcher } = await setup()
    const data = { text: 'héllo 😀 \u2028 "q" \\', empty: [], object: {}, float: 0.30000000000000004, big: 1e21, nothing: null }
    const online = await client(server, 'online')

    await dispatcher.dispatch(new Message(0, data, 'FIDELITY'), ['online', 'offline'])

    const frame = `{"op":0,"d":${JSON.stringify(data)},"t":"FIDELITY"}`
    await online.waitForMessages(1)
    expect(online.raw).toEqual([frame])
    expect(await stack.admin.hget(`undelivered_messages_${namespace}`, 'offline')).toBe(`[${frame}]`)
    const offline = await client(server, 'offline')
    await offline.waitForMessages(1)
    expect(offline.raw).toEqual([`{"op":0,"d":${JSON.stringify(data)},"t":"FIDELITY","s":1}`])
  })

  it('rejects with RedisUnavailableError when Redis cannot be reached', async () => {
    const port = await freePort()
    const unreachable = new Dispatcher(
      under === 'rest' ? { url: `http://127.0.0.1:${port}`, token: 't', timeoutMs: 500, retries: 1 } : `redis://127.0.0.1:${port}`,
    )
    const failure = await unreachable.dispatch(note(1), ['a']).catch((error: unknown) => error)
    await unreachable.close()
    expect(failure).toBeInstanceOf(RedisUnavailableError)
    expect((failure as Error).message).toMatch(
      under === 'rest'
        ? new RegExp(`^Redis REST request to http://127\\.0\\.0\\.1:${port} failed: ECONNREFUSED$`)
        : /^Redis could not be reached: .*ECONNREFUSED|max retries/i,
    )
  })
})
