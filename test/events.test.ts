import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type StartedDev, shellExports, startDev } from './support/dev-ready'
import { release } from './support/mesa-server'
import { until } from './support/processes'
import { copyService, describeRun, invokeResult, ROOT, runServerless, type ServiceCopy } from './support/serverless-cli'

// The flow events/README.md walks through, as a user follows it: `npm run dev`, its export line pasted into a
// shell, then `serverless invoke local -f <fn> -p events/<file>.json` (which builds the bundle) for EVERY file in
// events/, each of which must succeed and deliver what it asks for: a frame at each demo client it names (or
// at all of them for "*"), and a stored message in Redis for each offline recipient.

type Frame = { op: number; d: unknown; t?: string }
type Json = Record<string, unknown>
type DispatchRequest = {
  message?: { op?: number; d: unknown; t?: string; o?: { sync?: boolean } }
  event?: string
  recipients?: unknown[]
  excluding?: unknown[]
}

const EVENTS = join(ROOT, 'events')
const FILES = readdirSync(EVENTS)
  .filter((name) => name !== 'README.md')
  .sort()
const DEMO_CLIENTS = ['alice', 'bob', 'carol']

/** The table of events/README.md: `| \`file.json\` | \`function\` | what it is |`, file name to function. */
const DOCUMENTED = new Map(
  [...readFileSync(join(EVENTS, 'README.md'), 'utf8').matchAll(/^\| `([^`]+)` \| `([^`]+)` \|/gm)].map(([, file, fn]) => [file!, fn!] as const),
)
/** The functions serverless.yml defines. */
const FUNCTIONS = [...readFileSync(join(ROOT, 'serverless.yml'), 'utf8').matchAll(/^ {2}([\w-]+):\n {4}handler: /gm)].map(([, name]) => name!)

let dev: StartedDev
let env: Record<string, string>
let service: ServiceCopy
let redis: Redis

beforeAll(async () => {
  dev = await startDev()
  // What a user's shell holds after pasting the export line.
  env = await shellExports(dev.exportLine)
  service = await copyService()
  redis = new Redis(dev.redisUrl)
}, 180_000)
afterAll(async () => {
  if (redis) await release(redis)
  await service?.close()
  if (dev) expect(await dev.dev.signal('SIGINT', 'group', 60_000)).toEqual({ code: 0, signal: null })
})

async function invoke(fn: string, file: string, extra: string[] = []): Promise<unknown> {
  const run = await runServerless(service.dir, ['invoke', 'local', '-f', fn, '-p', `events/${file}`, '--stage', 'dev', ...extra], { env, allowLoopback: true })
  expect(run.code, describeRun(run)).toBe(0)
  expect(run.networkAttempts).toEqual([])
  return invokeResult(run.stdout)
}

describe('events/', () => {
  it('lists every file in the table of events/README.md, with a function serverless.yml defines', () => {
    expect(FILES.map((file) => [file, FUNCTIONS.includes(DOCUMENTED.get(file) ?? '') ? 'ok' : `documented as ${DOCUMENTED.get(file)}`])).toEqual(
      FILES.map((file) => [file, 'ok']),
    )
    expect([...DOCUMENTED.keys()].sort()).toEqual(FILES)
    expect(FUNCTIONS.filter((fn) => ![...DOCUMENTED.values()].includes(fn))).toEqual([])
  })

  it.each(FILES)(
    '%s runs through serverless invoke local against npm run dev and delivers what it asks for',
    async (file) => {
      const fn = DOCUMENTED.get(file)
      if (fn === undefined) throw new Error(`${file} is not in the table of events/README.md, so no one knows which function it is for`)
      const event = JSON.parse(readFileSync(join(EVENTS, file), 'utf8')) as Json
      const expected = expectedDeliveries(requestsIn(fn, event))
      const before = await snapshot(expected)

      const result = await invoke(fn, file)

      expect(failureOf(fn, result), JSON.stringify(result)).toBeUndefined()
      expect(await deliveredSince(before, expected)).toEqual(sorted(expected))
    },
    60_000,
  )

  it('cleanup.json removes the backlogs the other events stored, once older than MESA_SYNC_MAX_AGE_SECONDS', async () => {
    const hash = `undelivered_messages_${env.MESA_NAMESPACE}`
    const stored = await redis.hgetall(hash)
    expect(Object.keys(stored)).toEqual(['0'])
    // The index keeps whole seconds: wait until the newest message is over a second old by any rounding.
    await new Promise((resolve) => setTimeout(resolve, 2_100))

    const result = await invoke('cleanup', 'cleanup.json', ['--env', 'MESA_SYNC_MAX_AGE_SECONDS=1'])

    expect(result).toEqual({ removed: 1, bytes: stored['0']!.length, forgotten: 1, complete: true })
    expect(await redis.hgetall(hash)).toEqual({})
  }, 60_000)
})

/** Why a function's result is not a success, or undefined when it is one. */
function failureOf(fn: string, result: unknown): string | undefined {
  const value = result as Json
  switch (fn) {
    case 'http': {
      const body = JSON.parse(String(value.body)) as Json
      return value.statusCode === 200 && body.ok === true ? undefined : 'not 200 with ok: true'
    }
    case 'sqs':
      return Array.isArray(value.batchItemFailures) && value.batchItemFailures.length === 0 ? undefined : 'batch item failures'
    case 'eventbridge':
      return Array.isArray(value.recipients) && value.duplicate === false ? undefined : 'no fresh dispatch result'
    case 'cleanup':
      return value.complete === true ? undefined : 'an incomplete pass'
    default:
      throw new Error(`no success check for the function ${fn}: add one to test/events.test.ts`)
  }
}

/** The dispatch requests an event carries, read the way each function reads them. */
function requestsIn(fn: string, event: Json): DispatchRequest[] {
  switch (fn) {
    case 'http': {
      const raw = event.isBase64Encoded ? Buffer.from(String(event.body), 'base64').toString('utf8') : String(event.body)
      const body = JSON.parse(raw) as DispatchRequest & { dispatches?: DispatchRequest[] }
      return body.dispatches ?? [body]
    }
    case 'sqs':
      return (event.Records as Array<{ body: string }>).map((record) => JSON.parse(record.body) as DispatchRequest)
    case 'eventbridge':
      // An event on the bus carries the request in `detail`; a scheduled rule's `input` is the request itself.
      return ['detail-type' in event ? (event.detail as DispatchRequest) : (event as DispatchRequest)]
    case 'cleanup':
      return []
    default:
      throw new Error(`no reading of ${fn}'s events: add one to test/events.test.ts`)
  }
}

/** Frames per demo client (online in the dev stack) and stored messages per offline recipient (sync is on). */
type Deliveries = { frames: Record<string, Frame[]>; stored: Record<string, Frame[]> }

function expectedDeliveries(requests: DispatchRequest[]): Deliveries {
  const deliveries: Deliveries = { frames: Object.fromEntries(DEMO_CLIENTS.map((id) => [id, []])), stored: {} }
  for (const request of requests) {
    if (!request.message) throw new Error(`no expectation for a ${request.event} event yet: add one to test/events.test.ts`)
    const { op = 0, d, t, o } = request.message
    const frame: Frame = t === undefined ? { op, d } : { op, d, t }
    const recipients = request.recipients ?? ['*']
    if (recipients.includes('*')) {
      for (const id of DEMO_CLIENTS) deliveries.frames[id]!.push(frame)
      continue
    }
    for (const id of new Set(recipients)) {
      if ((request.excluding ?? []).includes(id)) continue
      if (typeof id === 'string' && DEMO_CLIENTS.includes(id)) deliveries.frames[id]!.push(frame)
      else if (typeof id === 'string' && id.trim() !== '' && o?.sync !== false) deliveries.stored[id] = [...(deliveries.stored[id] ?? []), frame]
    }
  }
  return deliveries
}

type Snapshot = { frames: Record<string, number>; stored: Record<string, number> }

/** Where each demo client's frames and each offline recipient's stored messages stand before an invocation. */
async function snapshot(expected: Deliveries): Promise<Snapshot> {
  const frames = Object.fromEntries((await demoClients()).map((client) => [client.id, Math.max(0, ...client.frames.map((entry) => entry.n))]))
  const stored: Record<string, number> = {}
  for (const id of Object.keys(expected.stored)) stored[id] = (await storedFor(id)).length
  return { frames, stored }
}

/** What arrived after `before`: waits for as many frames as expected, then a moment for any that should not come. */
async function deliveredSince(before: Snapshot, expected: Deliveries): Promise<Deliveries> {
  const newFrames = async () =>
    Object.fromEntries(
      (await demoClients()).map((client) => [client.id, client.frames.filter((entry) => entry.n > before.frames[client.id]!).map((entry) => entry.frame)]),
    )
  await until('the demo clients to receive the dispatched frames', async () => {
    const frames = await newFrames()
    return DEMO_CLIENTS.every((id) => frames[id]!.length >= expected.frames[id]!.length) ? true : undefined
  })
  await new Promise((resolve) => setTimeout(resolve, 200))
  const stored: Record<string, Frame[]> = {}
  for (const id of Object.keys(expected.stored)) stored[id] = (await storedFor(id)).slice(before.stored[id])
  return sorted({ frames: await newFrames(), stored })
}

/** Records arrive in any order (a standard SQS batch runs concurrently): compare them as sets. */
function sorted(deliveries: Deliveries): Deliveries {
  const order = (frames: Frame[]) => [...frames].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))
  const each = (map: Record<string, Frame[]>) => Object.fromEntries(Object.entries(map).map(([id, frames]) => [id, order(frames)]))
  return { frames: each(deliveries.frames), stored: each(deliveries.stored) }
}

async function demoClients(): Promise<Array<{ id: string; frames: Array<{ n: number; frame: Frame }> }>> {
  const response = await fetch(`${dev.consoleUrl}__dev/clients`)
  return ((await response.json()) as { clients: Array<{ id: string; frames: Array<{ n: number; frame: Frame }> }> }).clients
}

async function storedFor(id: string): Promise<Frame[]> {
  const raw = await redis.hget(`undelivered_messages_${env.MESA_NAMESPACE}`, id)
  return raw === null ? [] : (JSON.parse(raw) as Frame[])
}
