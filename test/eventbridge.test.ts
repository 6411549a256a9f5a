import type { Context } from 'aws-lambda'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { EventBridgeInput } from '../functions/eventbridge'
import { type DispatchResult, ValidationError } from '../src/index'
import { useCleanup } from './support/cleanup'
import { eventBridgeEvent, lambdaContext } from './support/events'
import { connectMesaClient } from './support/mesa-client'
import { type MesaServer, startMesaServer } from './support/mesa-server'
import { useStack } from './support/stack'

// functions/eventbridge.ts end to end: EventBridge events and schedule inputs in, a real Mesa server's clients out.
const stack = useStack()
const open = useCleanup()
const NAMESPACE = 'ebcases'
let handler: (event: EventBridgeInput, context: Context) => Promise<DispatchResult>
let server: MesaServer

beforeAll(async () => {
  Object.assign(process.env, stack.functionEnv(NAMESPACE))
  ;({ handler } = await import('../functions/eventbridge'))
  server = await startMesaServer({ redisUrl: stack.redis.url, namespace: NAMESPACE })
})
afterAll(() => server.close())

const request = (to: string, n: number) => ({ message: { op: 0, d: { n }, t: 'NOTE' }, recipients: [to] })
const frame = (n: number) => ({ op: 0, d: { n }, t: 'NOTE' })

describe('the EventBridge handler', () => {
  it('delivers the dispatch request carried in detail, whatever the detail-type', async () => {
    const alice = open(await connectMesaClient(server.url, 'alice'))
    await handler(eventBridgeEvent(request('alice', 1)), lambdaContext())
    await handler(eventBridgeEvent(request('alice', 2), 'orders.shipped'), lambdaContext())
    expect(await alice.waitForMessages(2)).toEqual([frame(1), frame(2)])
  })

  it("delivers a scheduled rule's input, which arrives as the event itself", async () => {
    const bob = open(await connectMesaClient(server.url, 'bob'))
    const result = await handler({ message: { op: 0, d: { ts: 'scheduled' }, t: 'HEARTBEAT' }, recipients: ['*'] }, lambdaContext())
    expect(result.recipients).toEqual(['*'])
    expect(await bob.waitForMessages(1)).toEqual([{ op: 0, d: { ts: 'scheduled' }, t: 'HEARTBEAT' }])
  })

  it('delivers an event that EventBridge retries only once', async () => {
    const carol = open(await connectMesaClient(server.url, 'carol'))
    const event = eventBridgeEvent(request('carol', 3))
    const [first, retry] = [await handler(event, lambdaContext()), await handler(event, lambdaContext())]
    expect([first.duplicate, retry.duplicate]).toEqual([false, true])
    expect(await carol.waitForMessages(1)).toEqual([frame(3)])
    await carol.expectNoMoreMessages(200)
  })

  it.each<[string, EventBridgeInput, string]>([
    ['a detail that is not a dispatch request', eventBridgeEvent({ hello: 'world' }), 'hello'],
    ['a detail with a bad recipient', eventBridgeEvent({ message: { d: 1 }, recipients: [null] }), 'recipients[0]'],
    ['a schedule input that is empty', {}, 'body'],
    // Dispatch-only: presence and backlogs are questions for the HTTP API, not events.
    ['a presence or clear question', eventBridgeEvent({ recipients: ['alice'] }), 'body'],
    ['a backlog question', eventBridgeEvent({ recipient: 'alice' }), 'recipient'],
  ])('throws a ValidationError for %s, so Lambda retries it and then dead-letters it', async (_, event, field) => {
    const failure = await handler(event, lambdaContext()).catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(ValidationError)
    expect((failure as ValidationError).field).toBe(field)
  })

  it('logs an unknown field of any length by its name cut at 300 characters, in a line that stays short', async () => {
    const key = 'k'.repeat(200_000)
    const lines: string[] = []
    const log = vi.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line))
    const failure = await handler(eventBridgeEvent({ message: { d: 1 }, [key]: 1 }), lambdaContext())
      .catch((error: unknown) => error)
      .finally(() => log.mockRestore())
    const line = lines.map((each) => JSON.parse(each) as Record<string, unknown>).find((each) => each.message === 'dispatch')!

    expect({ field: (failure as ValidationError).field.length, logged: line.field, longest: Math.max(...lines.map((each) => each.length)) < 1_000 }).toEqual({
      field: 200_000,
      logged: `${'k'.repeat(300)}…`,
      longest: true,
    })
  })
})
