import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildBundles } from '../esbuild.config.mjs'
import { createRequestParser } from '../src/core/request'
import { createApp, createAppFromEnv } from '../src/http/app'
import { createEmfMetrics, createMetricsFromEnv, type DispatchMetrics, METRICS } from '../src/observe/dispatch-metrics'
import { createEmfWriter } from '../src/observe/emf'
import { silentLogger } from '../src/observe/logger'
import { createTrigger } from '../src/triggers/trigger'
import { dimensionValues, emfProblems, isEmfLine, metricValues, parseEmf } from './support/emf-spec'
import { httpApiEvent } from './support/events'
import { lambdaNode } from './support/node22'
import { runCommand } from './support/processes'
import { ROOT } from './support/serverless-cli'
import { useStack } from './support/stack'

// The EMF writer's own guarantees (the spec's limits, one line per outcome), and that metrics can never cost a
// dispatch: a throwing sink or metrics object leaves every dispatch as it would be without them.
const stack = useStack()
const TIMING = { name: 'T', unit: 'Milliseconds', samples: true } as const
const COUNT = { name: 'C', unit: 'Count' } as const

function collect() {
  const lines: string[] = []
  return { lines, sink: (line: string) => void lines.push(line) }
}

describe('the EMF writer', () => {
  it('spreads more than 100 samples over further lines, each valid, with the sums on the first line only', () => {
    const { lines, sink } = collect()
    const writer = createEmfWriter('Test', sink)
    for (let i = 0; i < 250; i++) writer.add(TIMING, i)
    writer.add(COUNT, 2)
    writer.add(COUNT, 3)
    writer.flush([['Function', 'f']])

    expect(lines.map((line) => emfProblems(line))).toEqual([[], [], []])
    const metrics = lines.map((line) => metricValues(parseEmf(line)))
    expect(metrics.map((each) => [(each.T as number[]).length, each.C])).toEqual([
      [100, 5],
      [100, undefined],
      [50, undefined],
    ])
    expect(metrics.flatMap((each) => each.T as number[])).toEqual(Array.from({ length: 250 }, (_, i) => i))
  })

  it('writes one line per set of dimension values, the function-only metrics riding on the fullest', () => {
    const { lines, sink } = collect()
    const writer = createEmfWriter('Test', sink)
    writer.add(COUNT, 1, [['Outcome', 'failed']])
    writer.add(COUNT, 1, [['Outcome', 'sent']])
    writer.add({ name: 'D', unit: 'Count' }, 1, [['Outcome', 'sent']])
    writer.add(TIMING, 7)
    writer.flush([['Function', 'f']])

    expect(lines.map((line) => [dimensionValues(parseEmf(line)), metricValues(parseEmf(line))])).toEqual([
      [[{ Function: 'f', Outcome: 'failed' }], { C: 1 }],
      [[{ Function: 'f', Outcome: 'sent' }, { Function: 'f' }], { C: 1, D: 1, T: 7 }],
    ])
  })

  it('writes nothing when nothing was added, and starts over after each flush', () => {
    const { lines, sink } = collect()
    const writer = createEmfWriter('Test', sink)
    writer.flush([['Function', 'f']])
    writer.add(COUNT, 1)
    writer.flush([['Function', 'f']])
    writer.flush([['Function', 'f']])
    expect(lines.map((line) => metricValues(parseEmf(line)))).toEqual([{ C: 1 }])
  })
})

describe('the metrics settings', () => {
  it('write nothing when MESA_METRICS is false', async () => {
    const { lines, sink } = collect()
    const metrics = createMetricsFromEnv({ MESA_METRICS: 'false' }, sink)
    await metrics.observe('f', async () => metrics.failed(new Error('x')))
    expect(lines).toEqual([])
  })

  it('turn metrics off and say which variable is wrong, instead of failing the function, for an AWS/ namespace', async () => {
    const { lines, sink } = collect()
    const metrics = createMetricsFromEnv({ MESA_METRICS_NAMESPACE: 'AWS/Lambda' }, sink)
    await metrics.observe('f', async () => metrics.failed(new Error('x')))
    expect(lines.filter(isEmfLine)).toEqual([])
    expect(lines.map((line) => JSON.parse(line) as Record<string, unknown>)).toEqual([
      expect.objectContaining({ level: 'error', message: 'metrics are off: a setting is invalid', variable: 'MESA_METRICS_NAMESPACE' }),
    ])
  })
})

describe('a misconfigured http function', () => {
  it('counts every request it cannot serve as failed with a ConfigError', async () => {
    const { lines, sink } = collect()
    const metrics = createEmfMetrics({ sink })
    const app = createAppFromEnv({ UPSTASH_REDIS_REST_URL: 'not a url' }, { logger: silentLogger, metrics })
    const status = await metrics.observe(
      'mesa-dispatch-test-http',
      async () => (await app.fetch(new Request('http://local/dispatch', { method: 'POST' }))).status,
    )
    expect([status, lines.map((line) => [dimensionValues(parseEmf(line)).at(-1), metricValues(parseEmf(line))])]).toEqual([
      503,
      [[{ Function: 'mesa-dispatch-test-http', Outcome: 'failed', ErrorName: 'ConfigError' }, { Dispatches: 1 }]],
    ])
  })
})

describe('a metrics failure', () => {
  const throwing: DispatchMetrics = {
    dispatched() {
      throw new Error('dispatched broke')
    },
    failed() {
      throw new Error('failed broke')
    },
    redisTime() {
      throw new Error('redisTime broke')
    },
  }
  const note = JSON.stringify({ message: { op: 0, d: { n: 1 }, t: 'NOTE' }, recipients: ['someone'] })

  it('never fails a triggered dispatch, whether the metrics object or the EMF sink throws', async () => {
    const { namespace, dispatcher } = stack.freshDispatcher()
    const brokenSink = createEmfMetrics({
      sink: () => {
        throw new Error('stdout is gone')
      },
    })
    const results = await Promise.all(
      [throwing, brokenSink].map((metrics) =>
        brokenSink.observe('f', () => createTrigger(dispatcher, createRequestParser(), silentLogger, metrics).dispatch(note)),
      ),
    )
    expect(results.map((result) => result.stored)).toEqual([1, 1])
    expect(await stack.admin.hget(`undelivered_messages_${namespace}`, 'someone')).toBe(
      JSON.stringify([
        { op: 0, d: { n: 1 }, t: 'NOTE' },
        { op: 0, d: { n: 1 }, t: 'NOTE' },
      ]),
    )
  })

  it('never changes an HTTP answer', async () => {
    const { dispatcher } = stack.freshDispatcher()
    const app = createApp({ dispatcher, auth: { token: 'metrics-failure-token' }, logger: silentLogger, metrics: throwing })
    const request = (token: string) => new Request('http://local/dispatch', { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: note })
    const [good, refused] = await Promise.all([app.fetch(request('metrics-failure-token')), app.fetch(request('wrong-token-wrong-token'))])
    expect([good.status, refused.status]).toEqual([200, 401])
  })

  it('still rejects a dispatch that fails on its own, with its own error', async () => {
    const { dispatcher } = stack.freshDispatcher()
    const trigger = createTrigger(dispatcher, createRequestParser(), silentLogger, throwing)
    await expect(trigger.dispatch('{"message":{"op":-1,"d":1}}')).rejects.toMatchObject({ name: 'ValidationError', field: 'message.op' })
    await expect(trigger.dispatch(note)).resolves.toMatchObject({ stored: 1 })
  })
})

describe('the built bundles', () => {
  let outdir: string
  let files: Record<string, string>
  beforeAll(async () => {
    outdir = mkdtempSync(join(tmpdir(), 'mesa-emf-'))
    const built = await buildBundles({ only: ['edge', 'http'], outdir })
    files = Object.fromEntries(built.map((each) => [each.name, each.file]))
  }, 60_000)
  afterAll(() => rmSync(outdir, { recursive: true, force: true }))

  it('leave the EMF writer out of the edge bundle: Workers and the other edge runtimes have no CloudWatch', () => {
    const has = (name: string) => readFileSync(files[name]!, 'utf8').includes('CloudWatchMetrics')
    expect({ edge: has('edge'), http: has('http') }).toEqual({ edge: false, http: true })
  })

  it('write a valid EMF line from the minified http bundle, run by plain node as Lambda runs it', async () => {
    const event = httpApiEvent({ method: 'POST', path: '/dispatch', headers: { authorization: 'Bearer not-the-token-at-all' }, body: '{}' })
    const context = { functionName: 'mesa-dispatch-prod-http', awsRequestId: 'r1' }
    const script = `const { handler } = await import(process.argv[1]); const answer = await handler(${JSON.stringify(event)}, { ...${JSON.stringify(context)}, getRemainingTimeInMillis: () => 10000 }); console.error(answer.statusCode)`
    const env = {
      PATH: process.env.PATH,
      UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:9',
      UPSTASH_REDIS_REST_TOKEN: 'dummy-upstash-token',
      DISPATCH_TOKEN: 'the-right-dispatch-token',
    }
    const run = await runCommand(lambdaNode(), ['--input-type=module', '-e', script, pathToFileURL(files.http!).href], { env })
    const lines = run.stdout.split('\n').filter(isEmfLine)

    expect({ code: run.code, status: run.stderr.trim(), problems: lines.map((line) => emfProblems(line)) }).toEqual({ code: 0, status: '401', problems: [[]] })
    const doc = parseEmf(lines[0]!)
    expect([doc._aws.CloudWatchMetrics.map((each) => each.Namespace), dimensionValues(doc), metricValues(doc)]).toEqual([
      ['MesaDispatch'],
      [
        { Function: 'mesa-dispatch-prod-http', Outcome: 'refused' },
        { Function: 'mesa-dispatch-prod-http', Outcome: 'refused', ErrorName: 'AuthenticationError' },
      ],
      { Dispatches: 1 },
    ])
  })
})

describe("the runbook's metrics table", () => {
  it('names exactly the metrics the functions write, each with its unit', () => {
    const page = readFileSync(join(ROOT, 'docs', 'operations.md'), 'utf8')
    const section = page.slice(page.indexOf('## Metrics'), page.indexOf('\n## ', page.indexOf('## Metrics')))
    const rows = [...section.matchAll(/^\| ((?:`\w+`(?:, )?)+) \| ([\w, ]+) \|/gm)].flatMap(([, names, units]) =>
      [...names!.matchAll(/`(\w+)`/g)].map(([, name]) => [name, units!.split(', ')] as const),
    )
    expect(Object.fromEntries(rows.map(([name, units]) => [name, units.includes(METRICS[name as keyof typeof METRICS]?.unit ?? '?')]))).toEqual(
      Object.fromEntries(Object.keys(METRICS).map((name) => [name, true])),
    )
  })
})
