import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { type Dispatcher, PayloadTooLargeError, type Recipient, ValidationError } from '../src/index'
import { useCleanup } from './support/cleanup'
import { connectMesaClient } from './support/mesa-client'
import { type MesaServer, startMesaServer } from './support/mesa-server'
import { roundTrips } from './support/round-trips'
import { TRANSPORTS, useStack } from './support/stack'

// Dispatcher.presence and connectedCount against what a real Mesa 1.5.8 server's real WebSocket clients are doing,
// over REST (through the gateway) and TCP alike.
const stack = useStack()
const open = useCleanup()
let mesa: MesaServer
let namespace: string

beforeAll(async () => {
  namespace = stack.freshNamespace()
  mesa = await startMesaServer({ redisUrl: stack.redis.url, namespace })
})
afterAll(() => mesa.close())

/** A socket that connected to Mesa and got its hello (op 10), but never logged in. */
async function connectWithoutLogin(url: string): Promise<{ close(): Promise<void> }> {
  const socket = new WebSocket(url)
  socket.on('error', () => undefined)
  await new Promise<void>((resolve, reject) => {
    socket.once('message', () => resolve())
    socket.once('close', () => reject(new Error('Mesa closed the socket before its hello')))
  })
  const closed = new Promise((resolve) => socket.once('close', resolve))
  return {
    close: async () => {
      if (socket.readyState !== WebSocket.CLOSED) socket.close(1000)
      await closed
    },
  }
}

describe.each(TRANSPORTS)('Dispatcher.presence over %s', (transport) => {
  const dispatcher = (): Dispatcher => stack.dispatcher({ namespace }, transport)

  it('follows real Mesa clients as they connect, log in and disconnect, and answers each id as given, in order', async () => {
    const mesaDispatcher = dispatcher()
    const ids: Recipient[] = ['alice', 'bob', 'pending', 7, '7', 8, '8', 'alice']
    expect(await mesaDispatcher.presence(ids)).toEqual({ online: [], offline: ids })

    // Connected but not logged in: Mesa adds an id to its online set only at login (op 2).
    const pending = open(await connectWithoutLogin(mesa.url))
    const alice = await connectMesaClient(mesa.url, 'alice')
    const bob = await connectMesaClient(mesa.url, 'bob')
    // A client that logged in with the number 7: Mesa's set holds "7", as ioredis wrote it.
    const seven = open(await connectMesaClient(mesa.url, 7))
    expect(await mesaDispatcher.presence(ids)).toEqual({ online: ['alice', 'bob', 7, '7', 'alice'], offline: ['pending', 8, '8'] })
    expect(await mesaDispatcher.connectedCount()).toBe(3)

    await bob.close()
    expect(await mesaDispatcher.presence(ids)).toEqual({ online: ['alice', 7, '7', 'alice'], offline: ['bob', 'pending', 8, '8'] })
    await alice.close()
    await pending.close()
    expect([await mesaDispatcher.presence(ids), await mesaDispatcher.connectedCount()]).toEqual([
      { online: [7, '7'], offline: ['alice', 'bob', 'pending', 8, '8', 'alice'] },
      1,
    ])
    await seven.close()
    expect(await mesaDispatcher.connectedCount()).toBe(0)
  })

  it('costs one round trip for up to MAX_RECIPIENTS ids, and none for no id', async () => {
    const mesaDispatcher = dispatcher()
    const ids = Array.from({ length: 10_000 }, (_, i) => `user-${i}`)
    await stack.admin.sadd(`connected_clients_${namespace}`, 'user-1', 'user-9999')
    await mesaDispatcher.connectedCount() // loads the script into Redis's cache, and opens the TCP connection

    let answer: unknown
    let count: unknown
    const trips = [
      await roundTrips(stack, transport, async () => (answer = await mesaDispatcher.presence(ids))),
      await roundTrips(stack, transport, async () => (count = await mesaDispatcher.connectedCount())),
      await roundTrips(stack, transport, () => mesaDispatcher.presence([])),
    ]
    await stack.admin.srem(`connected_clients_${namespace}`, 'user-1', 'user-9999')

    expect({ trips, online: (answer as { online: string[] }).online, offline: (answer as { offline: string[] }).offline.length, count }).toEqual({
      trips: [1, 1, 0],
      online: ['user-1', 'user-9999'],
      offline: 9998,
      count: 2,
    })
  })
})

describe('Dispatcher.presence refuses, before any request', () => {
  const failureOf = async (call: () => Promise<unknown>) => {
    let error: unknown
    const requests = await stack.requestsDuring(() => call().catch((caught: unknown) => (error = caught)))
    if (!(error instanceof ValidationError || error instanceof PayloadTooLargeError)) throw new Error(`expected a refusal, got ${String(error)}`)
    return { requests, name: error.name, field: error instanceof ValidationError ? error.field : undefined, message: error.message }
  }

  it.each<[string, unknown[], string, string]>([
    ["'*', which names no one client", ['a', '*'], 'recipients[1]', "recipients[1] must name a client: '*' means every client in a dispatch, and names none"],
    ['an object', ['a', {}], 'recipients[1]', 'recipients[1] must be a string or a finite number, got a value of type object'],
    ['a lone surrogate', ['\ud800'], 'recipients[0]', 'recipients[0] must be well-formed UTF-16, without a lone surrogate'],
    ['more ids than maxRecipients', ['a', 'b', 'c'], 'recipients', 'recipients must name at most 2 recipients, got 3'],
  ])('%s', async (_, ids, field, message) => {
    const dispatcher = stack.dispatcher({ namespace, maxRecipients: 2 })
    expect(await failureOf(() => dispatcher.presence(ids as Recipient[]))).toEqual({ requests: 0, name: 'ValidationError', field, message })
  })

  it('ids that need a Redis request over maxRequestBytes', async () => {
    const dispatcher = stack.dispatcher({ namespace, maxRequestBytes: 65_536 })
    expect(await failureOf(() => dispatcher.presence(['x'.repeat(70_000)]))).toEqual({
      requests: 0,
      name: 'PayloadTooLargeError',
      field: undefined,
      // The request's size counts the namespace in the key, whose length varies with the test process's pid.
      message: expect.stringMatching(/^the question needs a Redis request of 7\d{4} bytes, over MAX_REQUEST_BYTES \(65536\): ask about fewer or shorter ids$/),
    })
  })
})
