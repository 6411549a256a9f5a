import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type BuiltBundle, buildBundles } from '../esbuild.config.mjs'
import { CLEANUP_SCRIPT, DISPATCH_SCRIPT } from '../src/script/scripts'
import { useCleanup } from './support/cleanup'
import { startDelayProxy } from './support/delay-proxy'
import { eventBridgeEvent, httpApiEvent, sqsEvent, sqsRecord } from './support/events'
import { type BundleSession, runBundle } from './support/lambda-bundle'
import { freePort } from './support/ports'
import { GATEWAY_TOKEN, useStack } from './support/stack'
import { listenTcp } from './support/tcp-server'

// A Lambda function readies its first dispatch during its init (src/triggers/warm-up.ts): a provisioned init opens
// the connection and loads the script, so that the first dispatch is one request on that connection, and is not held
// up long by a Redis that is down; an on-demand init, which a request waits on, sends nothing. Each bundle runs in a fresh
// process of Node 22 as Lambda's runtime would run it; requests are counted at the gateway, by when they reached
// it, and connections at a proxy in front of it.

const requestsAt: number[] = []
const stack = useStack({
  intercept: () => {
    requestsAt.push(performance.timeOrigin + performance.now())
    return false
  },
})
const open = useCleanup()
const DISPATCH_TOKEN = 'dispatch-token-0123456789'
const NOTE = { message: { op: 0, d: { n: 1 }, t: 'NOTE' }, recipients: ['alice'] }
let outdir: string
let built: BuiltBundle[]

beforeAll(async () => {
  outdir = mkdtempSync(join(tmpdir(), 'mesa-warm-up-'))
  built = await buildBundles({ only: ['http', 'sqs', 'eventbridge', 'cleanup'], outdir })
}, 60_000)
afterAll(() => rmSync(outdir, { recursive: true, force: true }))

/** Each function, the event of one invocation that succeeds, and the script its init loads. */
const FUNCTIONS = {
  http: {
    event: () => httpApiEvent({ method: 'POST', path: '/dispatch', headers: { authorization: `Bearer ${DISPATCH_TOKEN}` }, body: JSON.stringify(NOTE) }),
    script: DISPATCH_SCRIPT,
  },
  sqs: { event: () => sqsEvent([sqsRecord(JSON.stringify(NOTE))]), script: DISPATCH_SCRIPT },
  eventbridge: { event: () => eventBridgeEvent(NOTE), script: DISPATCH_SCRIPT },
  cleanup: { event: () => ({}), script: CLEANUP_SCRIPT },
}
type Name = keyof typeof FUNCTIONS

/** What a step cost: the requests that reached the gateway and the connections the proxy accepted while it ran. */
interface Cost {
  requests: number
  connections: number
}

/** Starts the function in a fresh process behind a new counting proxy (or at `url`) and counts what its init and its invocation cost. */
async function start(name: Name, initType: string | undefined, options: { url?: string } = {}) {
  const proxy = open(await startDelayProxy({ host: '127.0.0.1', port: stack.gateway.port }, 0))
  const env = {
    UPSTASH_REDIS_REST_URL: options.url ?? proxy.url,
    UPSTASH_REDIS_REST_TOKEN: GATEWAY_TOKEN,
    DISPATCH_TOKEN,
    MESA_NAMESPACE: stack.freshNamespace(),
    MESA_METRICS: 'false',
    REDIS_TIMEOUT_MS: '300',
    REDIS_RETRIES: '0',
    ...(initType ? { AWS_LAMBDA_INITIALIZATION_TYPE: initType } : {}),
  }
  const from = requestsAt.length
  const session = await runBundle(built.find((each) => each.name === name)!.file, [FUNCTIONS[name].event()], env, { idleMs: 50 })
  const requests = requestsAt.slice(from)
  if ('initError' in session.init) throw new Error(`${name} failed its init: ${session.init.initError.message}`)
  const { timeOrigin, initStart, initEnd } = session.init
  const invocation = session.invocations[0]!
  const within = (times: readonly number[], start: number, end: number) => times.filter((at) => at >= timeOrigin + start && at <= timeOrigin + end).length
  const cost = (start: number, end: number): Cost => ({ requests: within(requests, start, end), connections: within(proxy.acceptedAt, start, end) })
  return { session, init: cost(initStart, initEnd), first: cost(invocation.start, invocation.end), requests: requests.length, outcome: outcomeOf(session) }
}

/** The invocation's outcome: the http function's status, or whether the others returned or threw. */
function outcomeOf(session: BundleSession): string {
  const invocation = session.invocations[0]!
  if ('thrown' in invocation) return `threw ${invocation.thrown.name}`
  const status = (invocation.result as { statusCode?: number } | undefined)?.statusCode
  return status === undefined ? 'returned' : String(status)
}

const OK: Record<Name, string> = { http: '200', sqs: 'returned', eventbridge: 'returned', cleanup: 'returned' }
const warmUpLines = (session: BundleSession) => session.lines.filter((line) => String(line.message).startsWith('warm-up'))
const inCache = async (name: Name) => ((await stack.admin.script('EXISTS', FUNCTIONS[name].script.sha1)) as number[])[0]

describe.each(Object.keys(FUNCTIONS) as Name[])('a provisioned init of the %s function', (name) => {
  it('loads the script Redis lacks over the connection it opens, so that the first invocation is one request on it', async () => {
    await stack.admin.script('FLUSH')

    const run = await start(name, 'provisioned-concurrency')

    expect({ init: run.init, first: run.first, outcome: run.outcome, inCache: await inCache(name) }).toEqual({
      init: { requests: 2, connections: 1 },
      first: { requests: 1, connections: 0 },
      outcome: OK[name],
      inCache: 1,
    })
    expect(warmUpLines(run.session)).toEqual([])
  })
})

describe('a provisioned init', () => {
  it('only asks whether Redis holds the script, when it does', async () => {
    await stack.admin.script('FLUSH')
    const loading = await start('sqs', 'provisioned-concurrency')

    const loaded = await start('sqs', 'provisioned-concurrency')

    expect([loading.init.requests, loaded.init, loaded.first]).toEqual([2, { requests: 1, connections: 1 }, { requests: 1, connections: 0 }])
  })

  it('goes on when Redis refuses the connection, logs why once, and leaves the first dispatch to connect as it would have', async () => {
    const refused = `http://127.0.0.1:${await freePort()}`

    const run = await start('http', 'provisioned-concurrency', { url: refused })

    expect({ init: 'init' in run.session.init, outcome: run.outcome }).toEqual({ init: true, outcome: '503' })
    expect(warmUpLines(run.session)).toEqual([
      {
        level: 'warn',
        time: expect.any(String),
        message: 'warm-up failed: the first dispatch connects and loads the script itself',
        initType: 'provisioned-concurrency',
        error: 'RedisUnavailableError',
        detail: `Redis REST request to ${refused} failed: ECONNREFUSED`,
        outcome: 'none',
        cause: expect.objectContaining({ name: 'TypeError', message: 'fetch failed' }),
        durationMs: expect.any(Number),
      },
    ])
  })

  it('stops waiting for a Redis that never answers, and logs that it timed out', async () => {
    const silent = open(await listenTcp(() => {}))

    const run = await start('eventbridge', 'provisioned-concurrency', { url: silent.url })

    expect({ init: 'init' in run.session.init, outcome: run.outcome }).toEqual({ init: true, outcome: 'threw RedisUnavailableError' })
    expect(warmUpLines(run.session).map(({ error, detail }) => ({ error, detail }))).toEqual([
      { error: 'RedisUnavailableError', detail: `Redis REST request to ${silent.url} failed: timed out` },
    ])
  })
})

describe('the request path warm-up of a provisioned init of the http function', () => {
  it('runs in the init, sending Redis nothing past its SCRIPT EXISTS and writing nothing: no key, no log line, no metrics line', async () => {
    await stack.loadScripts()
    const namespace = stack.freshNamespace()
    // Metrics on, as deployed, so that a line the warm-up's metrics wrote would show.
    const env = { UPSTASH_REDIS_REST_URL: stack.gateway.url, UPSTASH_REDIS_REST_TOKEN: GATEWAY_TOKEN, DISPATCH_TOKEN, MESA_NAMESPACE: namespace }
    const from = requestsAt.length

    const session = await runBundle(built.find((each) => each.name === 'http')!.file, [], { ...env, AWS_LAMBDA_INITIALIZATION_TYPE: 'provisioned-concurrency' })

    expect({
      init: 'initError' in session.init ? session.init.initError : 'done',
      requests: requestsAt.length - from,
      keys: await stack.admin.keys(`*${namespace}*`),
      lines: session.lines,
      // Besides the runtime's own report of the init (test/support/lambda-runtime.mjs).
      written: session.stdout.split('\n').filter((line) => line !== '' && !line.startsWith('@@outcome ')),
    }).toEqual({ init: 'done', requests: 1, keys: [], lines: [], written: [] })
  })
})

describe('an on-demand init', () => {
  it('sends nothing, where a request waits: the first dispatch is the first request, on the one connection', async () => {
    // A provisioned start first leaves the script in Redis, so that the dispatch is one EVALSHA.
    await start('http', 'provisioned-concurrency')

    const run = await start('http', 'on-demand')

    expect({ init: run.init, first: run.first, total: run.requests, outcome: run.outcome }).toEqual({
      init: { requests: 0, connections: 0 },
      first: { requests: 1, connections: 1 },
      total: 1,
      outcome: '200',
    })
  })
})

describe('an init outside Lambda (no AWS_LAMBDA_INITIALIZATION_TYPE)', () => {
  it('sends nothing: the first dispatch is the first request', async () => {
    const run = await start('http', undefined)

    expect({ init: run.init, total: run.requests, outcome: run.outcome }).toEqual({ init: { requests: 0, connections: 0 }, total: 1, outcome: '200' })
  })
})
