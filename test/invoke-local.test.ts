import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { useCleanup } from './support/cleanup'
import { connectMesaClient, type MesaClient } from './support/mesa-client'
import { type MesaServer, startMesaServer } from './support/mesa-server'
import { copyService, describeRun, invokeResult, runServerless, type ServiceCopy } from './support/serverless-cli'
import { GATEWAY_TOKEN, useStack } from './support/stack'

// `serverless invoke local -f <fn> -p events/<x>.json` builds the function's bundle (dist/<fn>/index.js, what gets
// deployed; the copy has no dist/ before) and runs it inside the osls process, against a real redis-server behind the Upstash gateway, and a real Mesa
// 1.5.8 client with id "0" (a recipient in every sample event) receives the exact frames.

const NAMESPACE = 'local'
const stack = useStack()
const open = useCleanup()

let mesa: MesaServer
let service: ServiceCopy

beforeAll(async () => {
  mesa = await startMesaServer({ redisUrl: stack.redis.url, namespace: NAMESPACE, sync: true })
  service = await copyService()
}, 60_000)
afterAll(async () => {
  await service?.close()
  await mesa?.close()
  expect(mesa?.errors ?? []).toEqual([])
})

/** What a developer exports before `serverless invoke local`; serverless.yml reads it through ${env:…}. */
const env = () => ({
  UPSTASH_REDIS_REST_URL: stack.gateway.url,
  UPSTASH_REDIS_REST_TOKEN: GATEWAY_TOKEN,
  MESA_NAMESPACE: NAMESPACE,
  MESA_SYNC: 'true',
  DISPATCH_TOKEN: 'local-dev-dispatch-token',
})

async function invoke(fn: string, event: string, extra: string[] = [], overrides: Record<string, string> = {}) {
  const run = await runServerless(service.dir, ['invoke', 'local', '-f', fn, '-p', `events/${event}.json`, '--stage', 'dev', ...extra], {
    env: { ...env(), ...overrides },
    allowLoopback: true,
  })
  expect(run.code, describeRun(run)).toBe(0)
  // Loopback (the gateway) is all it may reach: no AWS credentials lookup, no SSM, nothing else.
  expect(run.networkAttempts).toEqual([])
  return invokeResult(run.stdout)
}

const client = async (): Promise<MesaClient> => open(await connectMesaClient(mesa.url, '0'))
const frame = (file: string, pick: (event: Record<string, unknown>) => unknown) =>
  JSON.stringify(pick(JSON.parse(readFileSync(join(service.dir, 'events', file), 'utf8')) as Record<string, unknown>))

describe('serverless invoke local on the built bundles', () => {
  it('sqs: dispatches both records of events/sqs.json and reports no failures', async () => {
    const mesaClient = await client()

    expect(await invoke('sqs', 'sqs')).toEqual({ batchItemFailures: [] })

    await mesaClient.waitForMessages(2)
    // A standard queue's records run concurrently, so compare them as a set, byte for byte.
    expect([...mesaClient.raw].sort()).toEqual(
      ['{"op":0,"d":{"content":"hello from SQS","author":"1"},"t":"NEW_MESSAGE"}', '{"op":0,"d":{"room":"general","unread":3},"t":"UNREAD_COUNT"}'].sort(),
    )
    await mesaClient.expectNoMoreMessages(100)
  }, 60_000)

  it('eventbridge: dispatches the detail of events/eventbridge.json, "1" excluded', async () => {
    const mesaClient = await client()

    expect(await invoke('eventbridge', 'eventbridge')).toEqual({
      servers: 1,
      recipients: ['0'],
      online: ['0'],
      offline: [],
      unstored: [],
      stored: 0,
      dropped: 0,
      duplicate: false,
      excludingIgnored: false,
    })

    await mesaClient.waitForMessages(1)
    expect(mesaClient.raw).toEqual(['{"op":0,"d":{"room":"general","user":"1"},"t":"TYPING_START"}'])
    expect(mesaClient.raw[0]).toBe(frame('eventbridge.json', (event) => (event.detail as { message: unknown }).message))
  }, 60_000)

  it('eventbridge: broadcasts the schedule input of events/schedule.json', async () => {
    const mesaClient = await client()

    expect(await invoke('eventbridge', 'schedule')).toMatchObject({ servers: 1, recipients: ['*'], duplicate: false })

    await mesaClient.waitForMessages(1)
    expect(mesaClient.raw).toEqual(['{"op":0,"d":{"ts":"scheduled"},"t":"HEARTBEAT"}'])
  }, 60_000)

  it('http: answers events/http-api-v2.json (payload 2.0, bearer token) with 200 and delivers the frame', async () => {
    const mesaClient = await client()

    const response = (await invoke('http', 'http-api-v2')) as { statusCode: number; headers: Record<string, string>; body: string }

    expect(response.statusCode).toBe(200)
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8')
    expect(JSON.parse(response.body)).toEqual({
      ok: true,
      result: { servers: 1, recipients: ['0'], online: ['0'], offline: [], unstored: [], stored: 0, dropped: 0, duplicate: false, excludingIgnored: false },
    })
    await mesaClient.waitForMessages(1)
    expect(mesaClient.raw).toEqual(['{"op":0,"d":{"status":"online"},"t":"STATUS_UPDATE"}'])
  }, 60_000)

  it('http: answers events/rest-api-v1.json (payload 1.0) in the REST API shape', async () => {
    const mesaClient = await client()

    const response = (await invoke('http', 'rest-api-v1')) as { statusCode: number; multiValueHeaders: Record<string, string[]>; body: string }

    expect(response.statusCode).toBe(200)
    expect(response.multiValueHeaders['content-type']).toEqual(['application/json; charset=utf-8'])
    expect(JSON.parse(response.body)).toMatchObject({ ok: true, result: { recipients: ['0'], online: ['0'] } })
    await mesaClient.waitForMessages(1)
    expect(mesaClient.raw).toEqual(['{"op":0,"d":{"content":"hello from REST","author":"1"},"t":"NEW_MESSAGE"}'])
  }, 60_000)

  it('http: decodes the base64 body of events/function-url.json', async () => {
    const mesaClient = await client()

    const response = (await invoke('http', 'function-url')) as { statusCode: number; body: string }

    expect(response.statusCode).toBe(200)
    expect(JSON.parse(response.body)).toMatchObject({ ok: true, result: { recipients: ['*'] } })
    await mesaClient.waitForMessages(1)
    expect(mesaClient.raw).toEqual(['{"op":0,"d":{"alert":"maintenance at 22:00 UTC"},"t":"GLOBAL_ALERT"}'])
  }, 60_000)

  it('http: refuses the sample event with 401 when DISPATCH_TOKEN differs, and dispatches nothing', async () => {
    const mesaClient = await client()

    const response = (await invoke('http', 'http-api-v2', [], { DISPATCH_TOKEN: 'another-token-of-16-chars' })) as { statusCode: number }

    expect(response.statusCode).toBe(401)
    await mesaClient.expectNoMoreMessages(200)
  }, 60_000)

  it('--env KEY=VALUE overrides the environment serverless.yml resolved', async () => {
    const mesaClient = await client()

    // The namespace in the environment is wrong; the flag puts it right, so the message reaches the client.
    await invoke('eventbridge', 'schedule', ['--env', `MESA_NAMESPACE=${NAMESPACE}`], { MESA_NAMESPACE: 'elsewhere' })

    await mesaClient.waitForMessages(1)
    expect(mesaClient.raw).toEqual(['{"op":0,"d":{"ts":"scheduled"},"t":"HEARTBEAT"}'])
  }, 60_000)

  it('sqs: given the EventBridge sample, says it got no Records[] and which function takes it, not a TypeError', async () => {
    const run = await runServerless(service.dir, ['invoke', 'local', '-f', 'sqs', '-p', 'events/eventbridge.json', '--stage', 'dev'], {
      env: env(),
      allowLoopback: true,
    })

    expect(run.code, describeRun(run)).toBe(1)
    expect(invokeResult(run.stdout)).toMatchObject({
      errorType: 'UnexpectedEventError',
      errorMessage:
        'the sqs function got no Records[]: is this an SQS event? It is an EventBridge event (detail-type "mesa.dispatch"), which the eventbridge function takes',
    })
  }, 60_000)

  it('prints the result and the log lines, and the EMF metric line only when MESA_METRICS=true asks for it', async () => {
    const runs = await Promise.all(
      ([{}, { MESA_METRICS: 'true' }] as Array<Record<string, string>>).map((overrides) =>
        runServerless(service.dir, ['invoke', 'local', '-f', 'eventbridge', '-p', 'events/schedule.json', '--stage', 'dev'], {
          env: { ...env(), ...overrides },
          allowLoopback: true,
        }),
      ),
    )

    const emfLines = runs.map((run) => run.stdout.split('\n').filter((line) => line.startsWith('{"_aws"')).length)
    const logLines = runs.map((run) => run.stdout.split('\n').filter((line) => line.startsWith('{"level":"info","time"')).length)
    expect({ codes: runs.map((run) => run.code), emfLines, logLines }).toEqual({ codes: [0, 0], emfLines: [0, 1], logLines: [1, 1] })
  }, 60_000)
})
