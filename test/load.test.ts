import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Message } from '../src/index'
import { useCleanup } from './support/cleanup'
import { connectMesaClient } from './support/mesa-client'
import { type MesaServer, startMesaServer } from './support/mesa-server'
import { useStack } from './support/stack'

// Load with nothing lost: thousands of concurrent dispatches to offline users, redelivered by a real Mesa server.
const stack = useStack()
const open = useCleanup()
const NAMESPACE = 'load'
const USERS = 50
const DISPATCHES = 5000
const SEQUENTIAL = 100
let server: MesaServer

beforeAll(async () => {
  server = await startMesaServer({ redisUrl: stack.redis.url, namespace: NAMESPACE })
})
afterAll(() => server.close())

const user = (index: number) => `user-${index}`

describe('under load', () => {
  it(`delivers ${DISPATCHES} concurrent dispatches to ${USERS} offline users exactly once, and a sequential sender in order`, async () => {
    const dispatcher = stack.dispatcher({ namespace: NAMESPACE, sync: { enabled: true } })
    const before = stack.gateway.requests

    const sequential = (async () => {
      for (let n = 0; n < SEQUENTIAL; n++) await dispatcher.dispatch(new Message(0, { n }, 'SEQ'), ['sequential-user'])
    })()
    const concurrent = Array.from({ length: DISPATCHES }, (_, n) => dispatcher.dispatch(new Message(0, { n }, 'LOAD'), [user(n % USERS)]))
    const results = await Promise.all(concurrent)
    await sequential

    expect(results.reduce((sum, result) => sum + result.stored, 0)).toBe(DISPATCHES)
    console.log(`${DISPATCHES} concurrent + ${SEQUENTIAL} sequential dispatches took ${stack.gateway.requests - before} HTTP requests`)

    for (let index = 0; index < USERS; index++) {
      const client = open(await connectMesaClient(server.url, user(index)))
      const frames = await client.waitForMessages(DISPATCHES / USERS, 20_000)
      const received = frames.map((frame) => (frame.d as { n: number }).n).sort((a, b) => a - b)
      const expected = Array.from({ length: DISPATCHES / USERS }, (_, k) => index + k * USERS)
      expect({ user: user(index), received, sequence: frames.map((frame) => frame.s) }).toEqual({
        user: user(index),
        received: expected,
        sequence: expected.map((_, k) => k + 1),
      })
      await client.close()
    }

    const ordered = open(await connectMesaClient(server.url, 'sequential-user'))
    const frames = await ordered.waitForMessages(SEQUENTIAL, 20_000)
    expect(frames.map((frame) => (frame.d as { n: number }).n)).toEqual([...Array(SEQUENTIAL).keys()])
    await ordered.expectNoMoreMessages(300)
    expect(await stack.admin.hlen(`undelivered_messages_${NAMESPACE}`)).toBe(0)
  }, 120_000)
})
