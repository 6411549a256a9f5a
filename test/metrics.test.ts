import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { EventBridgeInput } from '../functions/eventbridge'
import type { HttpEvent } from '../functions/http'
import { type CleanupResult, type DispatchResult, Message, ValidationError } from '../src/index'
import { ageEntry } from './support/backlog-index'
import { dimensionValues, type EmfDocument, emfProblems, isEmfLine, metricValues, parseEmf } from './support/emf-spec'
import { eventBridgeEvent, type HttpCall, httpApiEvent, lambdaContext, sqsEvent, sqsRecord } from './support/events'
import { connectMesaClient, type MesaClient } from './support/mesa-client'
import { type MesaServer, startMesaServer } from './support/mesa-server'
import { useStack } from './support/stack'

// Every Lambda handler, imported as Lambda runs it, dispatching for real (redis-server behind the Upstash gateway,
// a real Mesa 1.5.8 server and client): the EMF lines it prints are checked against the specification and
// against what that dispatch did.
const stack = useStack()
const NAMESPACE = 'metricscases'
const METRICS_NAMESPACE = 'MesaDispatchTest'
const TOKEN = 'metrics-test-dispatch-token'
const DAY = 24 * 3600

type Handler<E, R> = (event: E, context: Context) => Promise<R>
let http: Handler<HttpEvent, { statusCode: number; body: string }>
let sqs: Handler<SQSEvent, SQSBatchResponse>
let eventbridge: Handler<EventBridgeInput, DispatchResult>
let cleanup: Handler<unknown, CleanupResult>
let server: MesaServer
let alice: MesaClient
const printed: string[] = []

beforeAll(async () => {
  Object.assign(process.env, stack.functionEnv(NAMESPACE), {
    DISPATCH_TOKEN: TOKEN,
    MESA_METRICS_NAMESPACE: METRICS_NAMESPACE,
    MESA_SYNC_MAX_AGE_SECONDS: String(7 * DAY),
  })
  ;({ handler: http } = (await import('../functions/http')) as unknown as { handler: typeof http })
  ;({ handler: sqs } = await import('../functions/sqs'))
  ;({ handler: eventbridge } = await import('../functions/eventbridge'))
  ;({ handler: cleanup } = await import('../functions/cleanup'))
  server = await startMesaServer({ redisUrl: stack.redis.url, namespace: NAMESPACE, sync: true })
  alice = await connectMesaClient(server.url, 'alice')
  // What Lambda would send to CloudWatch Logs: every console line the handlers print.
  vi.spyOn(console, 'log').mockImplementation((line: unknown) => void printed.push(String(line)))
})
afterAll(async () => {
  vi.restoreAllMocks()
  await alice.close()
  await server.close()
})

const context = (fn: string): Context => ({ ...lambdaContext(), functionName: `mesa-dispatch-test-${fn}` })

/** Runs one invocation and returns the EMF lines it printed, each checked against the specification first. */
async function emfOf(invoke: () => Promise<unknown>): Promise<EmfDocument[]> {
  printed.length = 0
  await invoke()
  const lines = printed.filter(isEmfLine)
  expect(lines.map((line) => emfProblems(line))).toEqual(lines.map(() => []))
  return lines.map(parseEmf)
}

/** A line as the tests compare it: its namespaces, dimension sets resolved to values, and metric values. */
const summary = (doc: EmfDocument) => ({
  namespaces: [...new Set(doc._aws.CloudWatchMetrics.map((directive) => directive.Namespace))],
  dimensions: dimensionValues(doc),
  metrics: metricValues(doc),
})
const sorted = (docs: EmfDocument[]) => docs.map(summary).sort((a, b) => JSON.stringify(a.dimensions).localeCompare(JSON.stringify(b.dimensions)))
const anyMs = expect.any(Number)
/**
 * The dimension sets of an outcome's line: by outcome, by error name, by the API key that sent it (http only), and,
 * when `rider`, the function's own set that carries invocation metrics.
 */
const sets = (fn: string, outcome: string, options: { errorName?: string; key?: string; rider?: boolean } = {}) => {
  const base = { Function: `mesa-dispatch-test-${fn}`, Outcome: outcome }
  const named = options.errorName ? { ...base, ErrorName: options.errorName } : base
  return [
    base,
    ...(options.errorName ? [named] : []),
    ...(options.key ? [{ ...named, Key: options.key }] : []),
    ...(options.rider ? [{ Function: `mesa-dispatch-test-${fn}` }] : []),
  ]
}
const sent = (counts: { recipients: number; online: number; offline: number; stored: number; dispatches?: number }) => ({
  Dispatches: counts.dispatches ?? 1,
  Recipients: counts.recipients,
  Online: counts.online,
  Offline: counts.offline,
  Stored: counts.stored,
  Unstored: 0,
  Dropped: 0,
  UnheardPublishes: 0,
})
const note = (n: number, recipients: string[], id?: string) => ({ message: { op: 0, d: { n }, t: 'NOTE' }, recipients, ...(id ? { id } : {}) })
const post = (body: unknown, token = TOKEN): HttpCall => ({
  method: 'POST',
  path: '/dispatch',
  headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  body: JSON.stringify(body),
})

describe('the http function', () => {
  it('writes one EMF line for a dispatch to 3 recipients, 1 online and 2 stored, and delivers it', async () => {
    let status = 0
    const docs = await emfOf(async () => ({ statusCode: status } = await http(httpApiEvent(post(note(1, ['alice', 'bob', 'carol']))), context('http'))))

    expect(status).toBe(200)
    expect(docs.map(summary)).toEqual([
      {
        namespaces: [METRICS_NAMESPACE],
        dimensions: sets('http', 'sent', { key: 'default', rider: true }),
        metrics: { ...sent({ recipients: 3, online: 1, offline: 2, stored: 2 }), RedisRoundTripTime: anyMs },
      },
    ])
    expect(await alice.waitForMessages(1)).toEqual([{ op: 0, d: { n: 1 }, t: 'NOTE' }])
  })

  it('counts a refused request under its error name, with no Redis round trip', async () => {
    const docs = await emfOf(() => http(httpApiEvent(post(note(2, ['alice']), 'not-the-dispatch-token')), context('http')))
    expect(docs.map(summary)).toEqual([
      { namespaces: [METRICS_NAMESPACE], dimensions: sets('http', 'refused', { errorName: 'AuthenticationError' }), metrics: { Dispatches: 1 } },
    ])
  })

  it('writes one line per outcome for a batch that sent one dispatch and found the other a duplicate', async () => {
    await http(httpApiEvent(post(note(3, ['alice'], 'metrics-batch-repeat'))), context('http'))
    const docs = await emfOf(() => http(httpApiEvent(post({ dispatches: [note(4, ['bob']), note(3, ['alice'], 'metrics-batch-repeat')] })), context('http')))

    expect(sorted(docs)).toEqual([
      { namespaces: [METRICS_NAMESPACE], dimensions: sets('http', 'duplicate', { key: 'default' }), metrics: { Dispatches: 1 } },
      {
        namespaces: [METRICS_NAMESPACE],
        dimensions: sets('http', 'sent', { key: 'default', rider: true }),
        metrics: { ...sent({ recipients: 1, online: 0, offline: 1, stored: 1 }), RedisRoundTripTime: anyMs },
      },
    ])
  })

  it('writes nothing for an invocation with nothing to count, such as GET /health', async () => {
    expect(await emfOf(() => http(httpApiEvent({ method: 'GET', path: '/health' }), context('http')))).toEqual([])
  })
})

describe('the sqs function', () => {
  it('writes the batch in one line per outcome, with its records and failed records, and one round trip per dispatch', async () => {
    const records = [sqsRecord(JSON.stringify(note(5, ['alice', 'bob', 'carol']))), sqsRecord(JSON.stringify(note(6, ['dave']))), sqsRecord('not json')]
    let response: SQSBatchResponse | undefined
    const docs = await emfOf(async () => (response = await sqs(sqsEvent(records), context('sqs'))))

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: records[2]!.messageId }] })
    expect(sorted(docs)).toEqual([
      { namespaces: [METRICS_NAMESPACE], dimensions: sets('sqs', 'refused', { errorName: 'ValidationError' }), metrics: { Dispatches: 1 } },
      {
        namespaces: [METRICS_NAMESPACE],
        dimensions: sets('sqs', 'sent', { rider: true }),
        metrics: {
          ...sent({ dispatches: 2, recipients: 4, online: 1, offline: 3, stored: 3 }),
          RedisRoundTripTime: [anyMs, anyMs],
          SqsRecords: 3,
          SqsRecordsFailed: 1,
        },
      },
    ])
  })
})

describe('the eventbridge function', () => {
  it('writes one line for an event, and a duplicate line when EventBridge delivers it again', async () => {
    const event = eventBridgeEvent(note(7, ['alice']))
    const first = await emfOf(() => eventbridge(event, context('eventbridge')))
    const again = await emfOf(() => eventbridge(event, context('eventbridge')))

    expect([...first, ...again].map(summary)).toEqual([
      {
        namespaces: [METRICS_NAMESPACE],
        dimensions: sets('eventbridge', 'sent', { rider: true }),
        metrics: { ...sent({ recipients: 1, online: 1, offline: 0, stored: 0 }), RedisRoundTripTime: anyMs },
      },
      { namespaces: [METRICS_NAMESPACE], dimensions: sets('eventbridge', 'duplicate', { rider: true }), metrics: { Dispatches: 1, RedisRoundTripTime: anyMs } },
    ])
  })

  it('still throws an invalid event, so Lambda retries and dead-letters it, having counted it', async () => {
    let failure: unknown
    const docs = await emfOf(async () => {
      failure = await eventbridge(eventBridgeEvent({ hello: 'world' }), context('eventbridge')).catch((error: unknown) => error)
    })
    expect(failure).toBeInstanceOf(ValidationError)
    expect(docs.map(summary)).toEqual([
      { namespaces: [METRICS_NAMESPACE], dimensions: sets('eventbridge', 'refused', { errorName: 'ValidationError' }), metrics: { Dispatches: 1 } },
    ])
  })
})

describe('the cleanup function', () => {
  it('writes what it removed in one line under the function alone', async () => {
    const dispatcher = stack.dispatcher({ namespace: NAMESPACE, sync: { enabled: true } })
    await dispatcher.dispatch(new Message(0, { n: 8 }, 'NOTE'), ['week-old'])
    const index = `mesa_dispatch_backlogs_${NAMESPACE}`
    const [bytes] = (await stack.admin.hget(index, 'week-old'))!.split(':')
    await ageEntry(stack.admin, index, 'week-old', 8)

    const docs = await emfOf(() => cleanup({ source: 'aws.events' }, context('cleanup')))

    expect(docs.map(summary)).toEqual([
      {
        namespaces: [METRICS_NAMESPACE],
        dimensions: [{ Function: 'mesa-dispatch-test-cleanup' }],
        metrics: { BacklogsRemoved: 1, BacklogBytesRemoved: Number(bytes), BacklogEntriesForgotten: 1, CleanupIncomplete: 0 },
      },
    ])
  })
})

describe('the metrics of every function', () => {
  it('never name a recipient, a dispatch id or a request id: no dimension value is an id', async () => {
    const docs = await emfOf(() => http(httpApiEvent(post(note(9, ['alice-secret-id'], 'an-id-of-ours'))), context('http')))
    const values = docs.flatMap((doc) => dimensionValues(doc).flatMap((set) => Object.values(set)))
    // The key's name is a dimension value, but only a configured key's: a caller cannot make up new ones.
    expect([...new Set(values)].sort()).toEqual(['default', 'mesa-dispatch-test-http', 'sent'])
  })
})
