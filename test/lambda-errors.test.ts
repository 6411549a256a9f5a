import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type BuiltBundle, buildBundles } from '../esbuild.config.mjs'
import { eventBridgeEvent, httpApiEvent, sqsEvent, sqsRecord } from './support/events'
import { type BundleRun, invokeBundle } from './support/lambda-bundle'
import { freePort } from './support/ports'

// A Redis that cannot be reached, as each deployed Lambda bundle reports it: built as `npm run build` builds them,
// run by node as Lambda runs them, the handler called with a real event. Every answer and log line must name
// the system error (ECONNREFUSED, ENOTFOUND) and carry its chain of causes, with no secret in it.

const REST_TOKEN = 'upstash-rest-token-never-logged'
const DISPATCH_TOKEN = 'dispatch-token-never-logged-0123'
const NOTE = { message: { op: 0, d: { text: 'private message data' }, t: 'NOTE' }, recipients: ['alice'] }
const SECRETS = [REST_TOKEN, DISPATCH_TOKEN, 'private message data']

let outdir: string
let built: BuiltBundle[]
let port: number

beforeAll(async () => {
  outdir = mkdtempSync(join(tmpdir(), 'mesa-lambda-errors-'))
  built = await buildBundles({ only: ['http', 'sqs', 'eventbridge', 'cleanup'], outdir })
  // Free a moment ago, and nothing of this test listens on it.
  port = await freePort()
}, 60_000)
afterAll(() => rmSync(outdir, { recursive: true, force: true }))

const fileOf = (name: string) => built.find((each) => each.name === name)?.file ?? `no ${name} bundle`

/** An unreachable Redis: what its URL is, what the error says, and the causes undici chains under `fetch failed`. */
interface Unreachable {
  url: () => string
  dualStackLocalhost?: boolean
  detail: string
  cause: () => unknown
}

const refused = (address: string) => ({ name: 'Error', code: 'ECONNREFUSED', message: `connect ECONNREFUSED ${address}:${port}` })
const UNREACHABLE: Record<string, Unreachable> = {
  'a port where nothing listens': {
    url: () => `http://127.0.0.1:${port}`,
    get detail() {
      return `Redis REST request to http://127.0.0.1:${port} failed: ECONNREFUSED`
    },
    cause: () => ({ name: 'TypeError', message: 'fetch failed', cause: refused('127.0.0.1') }),
  },
  'localhost on both ::1 and 127.0.0.1, where nothing listens': {
    url: () => `http://localhost:${port}`,
    dualStackLocalhost: true,
    get detail() {
      return `Redis REST request to http://localhost:${port} failed: ECONNREFUSED`
    },
    cause: () => ({
      name: 'TypeError',
      message: 'fetch failed',
      cause: { name: 'AggregateError', code: 'ECONNREFUSED', message: '', errors: [refused('::1'), refused('127.0.0.1')] },
    }),
  },
  'a host name that does not resolve': {
    url: () => 'https://mesa-redis.invalid',
    detail: 'Redis REST request to https://mesa-redis.invalid failed: ENOTFOUND',
    cause: () => ({
      name: 'TypeError',
      message: 'fetch failed',
      cause: { name: 'Error', code: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND mesa-redis.invalid' },
    }),
  },
}

async function invoke(name: string, event: unknown, unreachable: Unreachable): Promise<BundleRun> {
  const env = { UPSTASH_REDIS_REST_URL: unreachable.url(), UPSTASH_REDIS_REST_TOKEN: REST_TOKEN, DISPATCH_TOKEN, REDIS_RETRIES: '0' }
  const run = await invokeBundle(fileOf(name), event, env, { dualStackLocalhost: unreachable.dualStackLocalhost === true })
  expect(run.networkAttempts).toEqual([])
  expect(SECRETS.filter((secret) => run.stdout.includes(secret) || run.stderr.includes(secret))).toEqual([])
  return run
}

/** The one log line with this message that is not an EMF line. */
const logLine = (run: BundleRun, message: string) => {
  const found = run.lines.filter((line) => line.message === message && !('_aws' in line))
  expect(found).toHaveLength(1)
  return found[0]
}
const failureFields = (unreachable: Unreachable) => ({
  level: 'error',
  time: expect.any(String),
  requestId: expect.any(String),
  error: 'RedisUnavailableError',
  detail: unreachable.detail,
  // Refused or unresolved: no request left, so nothing was applied.
  outcome: 'none',
  cause: unreachable.cause(),
})

describe.each(Object.entries(UNREACHABLE))('a Redis at %s', (_, unreachable) => {
  it('makes the http bundle answer 503 and log the error with its causes', async () => {
    const event = httpApiEvent({ method: 'POST', path: '/dispatch', headers: { authorization: `Bearer ${DISPATCH_TOKEN}` }, body: JSON.stringify(NOTE) })
    const run = await invoke('http', event, unreachable)

    const { statusCode, headers, body } = (run.outcome as { result: { statusCode: number; headers: Record<string, string>; body: string } }).result
    expect({ statusCode, retryAfter: headers['retry-after'], body: JSON.parse(body) }).toEqual({
      statusCode: 503,
      retryAfter: '5',
      body: {
        ok: false,
        error: {
          name: 'RedisUnavailableError',
          message: 'the dispatch endpoint cannot reach Redis right now; nothing was applied; retry later',
          outcome: 'none',
        },
      },
    })
    expect(logLine(run, 'request failed')).toEqual({ message: 'request failed', key: 'default', status: 503, ...failureFields(unreachable) })
  })

  it('makes the sqs bundle report the record as failed and log the error with its causes', async () => {
    const record = sqsRecord(JSON.stringify(NOTE))
    const run = await invoke('sqs', sqsEvent([record]), unreachable)

    expect(run.outcome).toEqual({ result: { batchItemFailures: [{ itemIdentifier: record.messageId }] } })
    expect(logLine(run, 'dispatch')).toEqual({ message: 'dispatch', result: 'failed', durationMs: expect.any(Number), ...failureFields(unreachable) })
  })

  it('makes the eventbridge bundle throw the error, named by its code, after logging it with its causes', async () => {
    const run = await invoke('eventbridge', eventBridgeEvent(NOTE), unreachable)

    expect(run.outcome).toEqual({ thrown: { name: 'RedisUnavailableError', message: unreachable.detail } })
    expect(logLine(run, 'dispatch')).toEqual({ message: 'dispatch', result: 'failed', durationMs: expect.any(Number), ...failureFields(unreachable) })
  })

  it('makes the cleanup bundle throw the error, named by its code, after logging it with its causes', async () => {
    const run = await invoke('cleanup', {}, unreachable)

    expect(run.outcome).toEqual({ thrown: { name: 'RedisUnavailableError', message: unreachable.detail } })
    expect(logLine(run, 'cleanup')).toEqual({ message: 'cleanup', result: 'failed', durationMs: expect.any(Number), ...failureFields(unreachable) })
  })
})

describe('a REST URL with user:password@ in it', () => {
  it('is reported by what fetch said, with the URL cut to its origin and the password nowhere', async () => {
    const unreachable: Unreachable = {
      url: () => 'https://default:redis-password-never-logged@mesa-redis.invalid',
      detail:
        'Redis REST request to https://mesa-redis.invalid failed: TypeError: Request cannot be constructed from a URL that includes credentials: https://mesa-redis.invalid/…',
      cause: () => ({ name: 'TypeError', message: 'Request cannot be constructed from a URL that includes credentials: https://mesa-redis.invalid/…' }),
    }
    const run = await invoke('eventbridge', eventBridgeEvent(NOTE), unreachable)

    expect(run.outcome).toEqual({ thrown: { name: 'RedisUnavailableError', message: unreachable.detail } })
    expect(logLine(run, 'dispatch')).toEqual({ message: 'dispatch', result: 'failed', durationMs: expect.any(Number), ...failureFields(unreachable) })
    expect(run.stdout).not.toContain('redis-password-never-logged')
  })
})

describe('a bad setting in the env', () => {
  const NAMESPACE_RULE = 'must be 1-64 characters of letters, digits, "_", ".", ":" or "-", starting with a letter or digit'
  const env = () => ({ UPSTASH_REDIS_REST_URL: `http://127.0.0.1:${port}`, UPSTASH_REDIS_REST_TOKEN: REST_TOKEN, DISPATCH_TOKEN, MESA_NAMESPACE: 'my app' })

  it('makes the http bundle answer 503 and log the variable to fix, by its env name', async () => {
    const event = httpApiEvent({ method: 'POST', path: '/dispatch', headers: { authorization: `Bearer ${DISPATCH_TOKEN}` }, body: JSON.stringify(NOTE) })
    const run = await invokeBundle(fileOf('http'), event, env())

    const { statusCode, body } = (run.outcome as { result: { statusCode: number; body: string } }).result
    expect({ statusCode, body: JSON.parse(body) }).toEqual({
      statusCode: 503,
      body: { ok: false, error: { name: 'ConfigError', message: 'the dispatch endpoint is misconfigured', outcome: 'none' } },
    })
    expect(logLine(run, 'the dispatch endpoint is misconfigured')).toEqual({
      level: 'error',
      time: expect.any(String),
      message: 'the dispatch endpoint is misconfigured',
      variable: 'MESA_NAMESPACE',
      error: 'ConfigError',
      detail: `MESA_NAMESPACE ${NAMESPACE_RULE}`,
      outcome: 'none',
    })
  })

  it('makes the sqs bundle fail to start with a ConfigError naming the variable, as Lambda reports an init error', async () => {
    const run = await invokeBundle(fileOf('sqs'), sqsEvent([sqsRecord(JSON.stringify(NOTE))]), env())

    expect(run.outcome).toEqual({ initError: { name: 'ConfigError', message: `MESA_NAMESPACE ${NAMESPACE_RULE}` } })
  })
})

describe('several bad settings in the env', () => {
  const env = () => ({ UPSTASH_REDIS_REST_URL: 'example.upstash.io', DISPATCH_TOKEN: 'short', MESA_SYNC: 'maybe' })
  const PROBLEMS = 'UPSTASH_REDIS_REST_URL must be an http(s) URL; UPSTASH_REDIS_REST_TOKEN must be set; MESA_SYNC must be true or false'

  it('make the http bundle log one line naming every variable, not the first alone', async () => {
    const run = await invokeBundle(fileOf('http'), httpApiEvent({ method: 'GET', path: '/health' }), env())

    expect(logLine(run, 'the dispatch endpoint is misconfigured')).toEqual({
      level: 'error',
      time: expect.any(String),
      message: 'the dispatch endpoint is misconfigured',
      variable: 'UPSTASH_REDIS_REST_URL, UPSTASH_REDIS_REST_TOKEN, MESA_SYNC, DISPATCH_TOKEN',
      error: 'ConfigError',
      detail: `4 settings are wrong: ${PROBLEMS}; DISPATCH_TOKEN must be at least 16 characters`,
      outcome: 'none',
    })
    expect(run.stdout).not.toContain('example.upstash.io')
  })

  it('make each other bundle fail to start with one ConfigError naming them all', async () => {
    const runs = await Promise.all(
      (['sqs', 'eventbridge', 'cleanup'] as const).map((name) => invokeBundle(fileOf(name), sqsEvent([sqsRecord(JSON.stringify(NOTE))]), env())),
    )

    for (const run of runs) expect(run.outcome).toEqual({ initError: { name: 'ConfigError', message: `3 settings are wrong: ${PROBLEMS}` } })
  })
})
