import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { GatewayIntercept } from '../dev/upstash-gateway'
import { DEADLINE_MARGIN_MS } from '../src/limits'
import { useCleanup } from './support/cleanup'
import { lambdaContext, sqsEvent, sqsRecord } from './support/events'
import { type HttpTransport, lambdaTransports } from './support/http-transports'
import { connectMesaClient, type MesaClient } from './support/mesa-client'
import { type MesaServer, startMesaServer } from './support/mesa-server'
import { GATEWAY_TOKEN, useStack } from './support/stack'

// Outages against real parts: redis-server really stops, the gateway really answers 5xx, hangs or loses answers.
// After each, every message must reach its client exactly once.
let fault: GatewayIntercept | undefined
const hung: ServerResponse[] = []
const stack = useStack({ intercept: (req, res) => fault?.(req, res) ?? false })
const open = useCleanup()
const NAMESPACE = 'outage'
const TOKEN = 'outage-test-dispatch-token'
let sqs: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>
let http: HttpTransport
let server: MesaServer

beforeAll(async () => {
  Object.assign(process.env, {
    ...stack.functionEnv(NAMESPACE, false),
    DISPATCH_TOKEN: TOKEN,
    REDIS_TIMEOUT_MS: '400',
    REDIS_RETRIES: '2',
  })
  ;({ handler: sqs } = await import('../functions/sqs'))
  http = lambdaTransports((await import('../functions/http')).handler)[1]!
  server = await startMesaServer({ redisUrl: stack.redis.url, namespace: NAMESPACE })
  await loadScript()
})

/** Dispatches once so that Redis has the script cached and every later dispatch is exactly one request. */
async function loadScript(): Promise<void> {
  expect(await sqs(sqsEvent([sqsRecord(JSON.stringify({ event: 'DISCONNECT_CLIENT', recipients: ['nobody'] }))]), lambdaContext())).toEqual({
    batchItemFailures: [],
  })
}
afterEach(() => {
  fault = undefined
  for (const res of hung.splice(0)) res.destroy()
})
afterAll(() => server.close())

const note = (n: number) => JSON.stringify({ message: { op: 0, d: { n }, t: 'NOTE' }, recipients: ['alice'] })
const frames = (...ns: number[]) => ns.map((n) => ({ op: 0, d: { n }, t: 'NOTE' }))
const failures = (records: SQSRecord[]) => ({ batchItemFailures: records.map(({ messageId }) => ({ itemIdentifier: messageId })) })
const byN = (a: Record<string, unknown>, b: Record<string, unknown>) => (a.d as { n: number }).n - (b.d as { n: number }).n
const alice = async (): Promise<MesaClient> => open(await connectMesaClient(server.url, 'alice'))

/** Restarts redis-server and waits until the gateway and the Mesa server's subscriber are both back. */
async function restartRedis(): Promise<void> {
  await stack.redis.start()
  for (;;) {
    const subscribers = await stack.admin.pubsub('NUMSUB', `ws_${NAMESPACE}`).catch(() => [])
    const gateway = await fetch(`${stack.gateway.url}/ping`, { headers: { authorization: `Bearer ${GATEWAY_TOKEN}` } }).catch(() => undefined)
    if (subscribers[1] === 1 && gateway?.status === 200) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** Answers every request with a 502 page, as a broken proxy in front of Redis would. */
const badGateway: GatewayIntercept = (_req, res) => {
  res.writeHead(502, { 'content-type': 'text/html' }).end('<h1>502</h1>')
  return true
}
/** Never answers. */
const hang: GatewayIntercept = (_req, res) => {
  hung.push(res)
  return true
}
/** Lets Redis apply the request, then drops the connection instead of answering. */
const loseAnswers: GatewayIntercept = (_req: IncomingMessage, res: ServerResponse) => {
  res.end = (() => {
    res.socket?.destroy()
    return res
  }) as typeof res.end
  return false
}

describe('when redis-server stops', () => {
  it('reports exactly the unfinished records of a FIFO batch, and their redelivery arrives once', async () => {
    const client = await alice()
    const records = [1, 2, 3, 4, 5].map((n) => sqsRecord(note(n), { queue: 'outage.fifo' }))
    let requests = 0
    fault = async () => {
      if (++requests === 3) await stack.redis.stop()
      return false
    }

    expect(await sqs(sqsEvent(records), lambdaContext())).toEqual(failures(records.slice(2)))
    fault = undefined
    await restartRedis()
    await loadScript()
    expect(await sqs(sqsEvent(records.slice(2)), lambdaContext())).toEqual(failures([]))

    expect(await client.waitForMessages(5)).toEqual(frames(1, 2, 3, 4, 5))
    await client.expectNoMoreMessages(300)
  })

  it('reports every record of a standard batch sent while it is down, and delivers each once after it returns', async () => {
    const client = await alice()
    const records = [1, 2, 3].map((n) => sqsRecord(note(n)))
    await stack.redis.stop()

    expect(await sqs(sqsEvent(records), lambdaContext())).toEqual(failures(records))
    await restartRedis()
    await loadScript()
    expect(await sqs(sqsEvent(records), lambdaContext())).toEqual(failures([]))

    expect((await client.waitForMessages(3)).sort(byN)).toEqual(frames(1, 2, 3))
    await client.expectNoMoreMessages(300)
  })
})

describe.each([
  ['answers 5xx', badGateway],
  ['hangs past the timeout', hang],
])('when the gateway %s', (_, gatewayFault) => {
  it('answers HTTP with 503 and Retry-After, reports the SQS records, and their redelivery arrives once', async () => {
    const client = await alice()
    const records = [1, 2].map((n) => sqsRecord(note(n)))
    fault = gatewayFault

    const reply = await http.send({ method: 'POST', path: '/dispatch', headers: { authorization: `Bearer ${TOKEN}` }, body: note(0) })
    expect({ status: reply.status, retryAfter: reply.headers['retry-after'] }).toEqual({ status: 503, retryAfter: '5' })
    expect(await sqs(sqsEvent(records), lambdaContext())).toEqual(failures(records))

    fault = undefined
    expect(await sqs(sqsEvent(records), lambdaContext())).toEqual(failures([]))
    expect((await client.waitForMessages(2)).sort(byN)).toEqual(frames(1, 2))
    await client.expectNoMoreMessages(300)
  })
})

describe('when the gateway hangs and the Lambda is about to time out', () => {
  it('cuts the attempt at the deadline and makes no other, reporting the record', async () => {
    fault = hang
    const before = stack.gateway.requests
    const record = sqsRecord(note(1))
    // Room for one 300 ms attempt and none after it, where three 400 ms attempts would need 1.2 s.
    expect(await sqs(sqsEvent([record]), lambdaContext(DEADLINE_MARGIN_MS + 300))).toEqual(failures([record]))
    expect(stack.gateway.requests - before).toBe(1)
  })
})

describe('when Redis applies a dispatch but the answer is lost', () => {
  it('retries without applying it twice, and answers with the original result', async () => {
    const client = await alice()
    let requests = 0
    fault = (req, res) => (++requests === 1 ? loseAnswers(req, res) : false)

    const reply = await http.send({ method: 'POST', path: '/dispatch', headers: { authorization: `Bearer ${TOKEN}` }, body: note(1) })

    expect(reply).toMatchObject({ status: 200, body: { ok: true, result: { servers: 1, recipients: ['alice'], duplicate: false } } })
    expect(requests).toBe(2)
    expect(await client.waitForMessages(1)).toEqual(frames(1))
    await client.expectNoMoreMessages(300)
  })

  it('delivers an SQS record once when every answer was lost and SQS redelivers it', async () => {
    const client = await alice()
    const record = sqsRecord(note(1))
    fault = loseAnswers

    expect(await sqs(sqsEvent([record]), lambdaContext())).toEqual(failures([record]))
    fault = undefined
    expect(await sqs(sqsEvent([record]), lambdaContext())).toEqual(failures([]))

    expect(await client.waitForMessages(1)).toEqual(frames(1))
    await client.expectNoMoreMessages(300)
  })
})
