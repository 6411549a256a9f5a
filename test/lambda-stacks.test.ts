import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type BuiltBundle, buildBundles } from '../esbuild.config.mjs'
import { eventBridgeEvent, httpApiEvent, sqsEvent, sqsRecord } from './support/events'
import { type BundleSession, runBundle } from './support/lambda-bundle'
import { freePort } from './support/ports'
import { ROOT } from './support/serverless-cli'

// An error that reaches Lambda from any function, at its init or from its handler, carries a stack in the
// TypeScript sources, mapped through the .map beside the bundle when that stack is first formatted: with no
// NODE_OPTIONS, and the map never read by an instance that formats no stack.

const MAP_READS = join(ROOT, 'test', 'support', 'map-reads.cjs')
const NOTE = { message: { op: 0, d: { n: 1 }, t: 'NOTE' }, recipients: ['alice'] }
let outdir: string
let built: BuiltBundle[]
let port: number

beforeAll(async () => {
  outdir = mkdtempSync(join(tmpdir(), 'mesa-lambda-stacks-'))
  built = await buildBundles({ only: ['http', 'sqs', 'eventbridge', 'cleanup'], outdir })
  port = await freePort()
}, 60_000)
afterAll(() => rmSync(outdir, { recursive: true, force: true }))

const fileOf = (name: string) => built.find((each) => each.name === name)!.file
const env = (overrides: Record<string, string> = {}) => ({
  UPSTASH_REDIS_REST_URL: `http://127.0.0.1:${port}`,
  UPSTASH_REDIS_REST_TOKEN: 'upstash-rest-token',
  DISPATCH_TOKEN: 'dispatch-token-0123456789',
  REDIS_RETRIES: '0',
  ...overrides,
})

/** Runs a bundle, noting each source map its process reads. */
async function run(name: string, events: unknown[], variables: Record<string, string>) {
  const log = join(outdir, `${name}-${Date.now()}-map-reads.log`)
  const session = await runBundle(fileOf(name), events, { ...variables, MAP_READS_LOG: log }, { nodeOptions: `--require ${JSON.stringify(MAP_READS)}` })
  const mapReads = existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []
  return { session, mapReads }
}

/** The frames of a stack, each as the file it points to, relative to the project (`src/errors.ts`) when in it, or as written. */
const framesOf = (stack: string[]) =>
  stack
    .slice(1)
    .map((line) => /(?:\(|at )(\/[^ ]+?):\d+:\d+\)?$/.exec(line.trim())?.[1] ?? line.trim())
    .map((file) => (file.startsWith(ROOT) ? file.slice(ROOT.length) : file))

const stackOf = (session: BundleSession) => {
  if ('initError' in session.init) return session.init.stack
  const thrown = session.invocations.find((each) => 'thrown' in each)
  return thrown && 'thrown' in thrown ? thrown.stack : []
}

// The http function answers every failure of a request itself; what reaches Lambda is an event it cannot read.
const FAILURES: Array<[string, string, unknown, Record<string, string>, string]> = [
  ['http', 'from its handler, given an event that is no HTTP event', null, {}, '\\w*Error'],
  ['eventbridge', 'from its handler, a Redis that refuses connections', eventBridgeEvent(NOTE), {}, 'RedisUnavailableError'],
  ['cleanup', 'from its handler, a Redis that refuses connections', {}, {}, 'RedisUnavailableError'],
]

// Wrong settings fail the init with one line naming every variable (src/triggers/read-at-start.ts): where in the
// code they were found says nothing the message does not, so no stack is formatted and no map read.
const INIT_FAILURES: Array<[string, unknown]> = [
  ['sqs', sqsEvent([sqsRecord(JSON.stringify(NOTE))])],
  ['eventbridge', eventBridgeEvent(NOTE)],
  ['cleanup', {}],
]

describe.each(INIT_FAILURES)('the %s bundle, failing at init on a bad UPSTASH_REDIS_REST_URL', (name, event) => {
  it('gives Lambda one line naming the variable, and reads no map', async () => {
    const { session, mapReads } = await run(name, [event], env({ UPSTASH_REDIS_REST_URL: 'not-a-url' }))
    expect({ stack: stackOf(session), mapReads }).toEqual({ stack: ['ConfigError: UPSTASH_REDIS_REST_URL must be an http(s) URL'], mapReads: [] })
  })
})

describe.each(FAILURES)('the %s bundle, failing %s', (name, _, event, overrides, error) => {
  it('gives Lambda a stack in src/ and functions/, having read its map once, at that error', async () => {
    const { session, mapReads } = await run(name, [event], env(overrides))
    const stack = stackOf(session)
    const frames = framesOf(stack)

    expect(stack[0]).toMatch(new RegExp(`^${error}: `))
    expect(frames[0]).toMatch(/^(src|functions)\/[\w/.-]+\.ts$/)
    // No frame is left pointing into the minified bundle.
    expect(frames.filter((frame) => frame.includes(dirname(fileOf(name))))).toEqual([])
    expect(mapReads).toEqual([`${fileOf(name)}.map`])
  })
})

describe('a bundle whose instance formats no stack', () => {
  it('never reads its source map', async () => {
    const { session, mapReads } = await run('http', [httpApiEvent({ method: 'GET', path: '/health' })], env())

    expect(session.invocations.map((each) => ('result' in each ? (each.result as { statusCode: number }).statusCode : each))).toEqual([200])
    expect(mapReads).toEqual([])
  })
})
