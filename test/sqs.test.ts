import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { useCleanup } from './support/cleanup'
import { lambdaContext, sqsEvent, sqsRecord } from './support/events'
import { connectMesaClient, type MesaClient } from './support/mesa-client'
import { type MesaServer, startMesaServer } from './support/mesa-server'
import { useStack } from './support/stack'

// functions/sqs.ts end to end: SQS events in, a real Mesa server's clients out.
const stack = useStack()
const open = useCleanup()
const NAMESPACE = 'sqscases'
let handler: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>
let server: MesaServer

beforeAll(async () => {
  // A small request limit, so that one record can be too big for Redis and still fit in an SQS message.
  Object.assign(process.env, stack.functionEnv(NAMESPACE), { MAX_REQUEST_BYTES: '65536' })
  ;({ handler } = await import('../functions/sqs'))
  server = await startMesaServer({ redisUrl: stack.redis.url, namespace: NAMESPACE })
})
afterAll(() => server.close())

async function client(id: string): Promise<MesaClient> {
  return open(await connectMesaClient(server.url, id))
}
const note = (to: string, n: number) => JSON.stringify({ message: { op: 0, d: { n }, t: 'NOTE' }, recipients: [to] })
const frame = (n: number) => ({ op: 0, d: { n }, t: 'NOTE' })
const failures = (...ids: string[]) => ({ batchItemFailures: ids.map((itemIdentifier) => ({ itemIdentifier })) })

describe('the SQS handler', () => {
  it('delivers the good records of a batch and reports only the bad one', async () => {
    const alice = await client('alice')
    const records = [sqsRecord(note('alice', 1)), sqsRecord('{"message":{"op":-1,"d":1}}'), sqsRecord(note('alice', 2))]

    expect(await handler(sqsEvent(records), lambdaContext())).toEqual(failures(records[1]!.messageId))
    expect((await alice.waitForMessages(2)).sort((a, b) => (a.d as { n: number }).n - (b.d as { n: number }).n)).toEqual([frame(1), frame(2)])
  })

  it('reports every kind of invalid record, so each reaches the dead-letter queue', async () => {
    const records = ['', 'not json', 'null', '[]', '{"event":"REBOOT"}', '{"message":{"d":1},"recipients":"alice"}'].map((body) => sqsRecord(body))
    expect(await handler(sqsEvent(records), lambdaContext())).toEqual(failures(...records.map((record) => record.messageId)))
  })

  it('stays dispatch-only: a question body (presence, backlog, clear) is reported as an invalid record and clears nothing', async () => {
    await stack.admin.hset(`undelivered_messages_${NAMESPACE}`, 'kept', '[{"op":0,"d":1}]')
    const records = ['{"recipients":["kept"]}', '{"recipient":"kept"}', '{}'].map((body) => sqsRecord(body))
    expect(await handler(sqsEvent(records), lambdaContext())).toEqual(failures(...records.map((record) => record.messageId)))
    expect(await stack.admin.hget(`undelivered_messages_${NAMESPACE}`, 'kept')).toBe('[{"op":0,"d":1}]')
  })

  it('reports a record too big for one Redis request as failed, sending nothing of it', async () => {
    const dave = await client('dave')
    const big = JSON.stringify({ message: { d: { text: 'x'.repeat(60_000) }, t: 'NOTE' }, recipients: ['dave'] })
    const records = [sqsRecord(big), sqsRecord(note('dave', 1))]
    expect(await handler(sqsEvent(records), lambdaContext())).toEqual(failures(records[0]!.messageId))
    expect(await dave.waitForMessages(1)).toEqual([frame(1)])
    await dave.expectNoMoreMessages(200)
  })

  it('costs one Redis request for a batch of ten', async () => {
    const records = Array.from({ length: 10 }, (_, n) => sqsRecord(note('nobody', n)))
    let response: unknown
    expect(await stack.requestsDuring(async () => (response = await handler(sqsEvent(records), lambdaContext())))).toBe(1)
    expect(response).toEqual(failures())
  })

  it('delivers a record redelivered by SQS only once', async () => {
    const bob = await client('bob')
    const record = sqsRecord(note('bob', 7))
    expect([await handler(sqsEvent([record]), lambdaContext()), await handler(sqsEvent([record]), lambdaContext())]).toEqual([failures(), failures()])
    expect(await bob.waitForMessages(1)).toEqual([frame(7)])
    await bob.expectNoMoreMessages(200)
  })

  it('stops a FIFO batch at the first failure and reports it and every record after it', async () => {
    const carol = await client('carol')
    const fifo = { queue: 'mesa-dispatch.fifo' }
    const records = [sqsRecord(note('carol', 1), fifo), sqsRecord('oops', fifo), sqsRecord(note('carol', 3), fifo), sqsRecord(note('carol', 4), fifo)]

    expect(await handler(sqsEvent(records), lambdaContext())).toEqual(failures(...records.slice(1).map((record) => record.messageId)))
    expect(await carol.waitForMessages(1)).toEqual([frame(1)])
    await carol.expectNoMoreMessages(200)
  })
})
