import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import DashboardPlugin from '../scripts/serverless/dashboard.mjs'
import { METRICS } from '../src/observe/dispatch-metrics'
import { copyService, describeRun, ROOT, runServerless, type ServiceCopy } from './support/serverless-cli'

// The operations side of `serverless package --stage dev` (osls, offline): the alarms, where they notify, X-Ray
// tracing, and the metrics settings, packaged twice: with the stage params left empty, and with them set.

interface Resource {
  Type: string
  Properties: Record<string, unknown>
}
interface Template {
  Conditions?: Record<string, unknown>
  Resources: Record<string, Resource>
  Outputs: Record<string, { Value: unknown }>
}

const ENV = {
  UPSTASH_REDIS_REST_URL: 'https://example-12345.upstash.io',
  UPSTASH_REDIS_REST_TOKEN: 'upstash-token-from-env',
  DISPATCH_TOKEN: 'dispatch-token-from-env',
}
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:mesa-alarms'
const FUNCTIONS = ['Http', 'Sqs', 'Eventbridge', 'Cleanup']

let service: ServiceCopy
const templates: { plain?: Template; configured?: Template } = {}

async function packageWith(env: Record<string, string>): Promise<Template> {
  const run = await runServerless(service.dir, ['package', '--stage', 'dev'], { env: { ...ENV, ...env } })
  expect(run.code, describeRun(run)).toBe(0)
  expect(run.networkAttempts).toEqual([])
  return JSON.parse(readFileSync(join(service.dir, '.serverless', 'cloudformation-template-update-stack.json'), 'utf8')) as Template
}

beforeAll(async () => {
  service = await copyService()
  templates.plain = await packageWith({})
  templates.configured = await packageWith({
    MESA_ALARM_TOPIC_ARN: TOPIC,
    MESA_TRACING: 'true',
    MESA_METRICS_NAMESPACE: 'MesaDispatch/dev',
    DISPATCH_TOKEN_PREVIOUS: 'previous-dispatch-token',
  })
}, 240_000)
afterAll(() => service?.close())

/**
 * Resolves the intrinsic functions a template uses for conditional values, as CloudFormation would: Fn::If on a
 * condition built from Fn::Not and Fn::Equals of literals. `undefined` stands for AWS::NoValue (the key is dropped).
 */
function resolve(template: Template, value: unknown): unknown {
  if (Array.isArray(value)) return value.map((each) => resolve(template, each))
  if (typeof value !== 'object' || value === null) return value
  const entries = Object.entries(value)
  const [key, argument] = entries[0] ?? []
  if (entries.length === 1 && key === 'Ref' && argument === 'AWS::NoValue') return undefined
  if (entries.length === 1 && key === 'Fn::Not') return !resolve(template, (argument as unknown[])[0])
  if (entries.length === 1 && key === 'Fn::Equals') {
    const [a, b] = resolve(template, argument) as unknown[]
    return JSON.stringify(a) === JSON.stringify(b)
  }
  if (entries.length === 1 && key === 'Fn::If') {
    const [condition, then, otherwise] = argument as [string, unknown, unknown]
    return resolve(template, resolve(template, template.Conditions?.[condition]) ? then : otherwise)
  }
  return Object.fromEntries(entries.map(([name, each]) => [name, resolve(template, each)]).filter(([, each]) => each !== undefined))
}

const alarms = (template: Template) =>
  Object.fromEntries(
    Object.entries(template.Resources)
      .filter(([, resource]) => resource.Type === 'AWS::CloudWatch::Alarm')
      .map(([name, resource]) => [name, resolve(template, resource.Properties) as Record<string, unknown>]),
  )

/** An alarm on one metric, as the template must state it. */
const alarmOn = (name: string, namespace: string, metric: string, statistic: string, dimension: Record<string, unknown>) => ({
  AlarmName: `mesa-dispatch-dev-${name}`,
  AlarmDescription: expect.stringContaining('Runbook in docs/operations.md.'),
  Namespace: namespace,
  MetricName: metric,
  Dimensions: [dimension],
  Statistic: statistic,
  ComparisonOperator: 'GreaterThanThreshold',
  Threshold: 0,
  Period: 300,
  EvaluationPeriods: 1,
  TreatMissingData: 'notBreaching',
})
const lambdaAlarm = (fn: string, metric: 'Errors' | 'Throttles') =>
  alarmOn(`${fn.toLowerCase()}-${metric.toLowerCase()}`, 'AWS/Lambda', metric, 'Sum', { Name: 'FunctionName', Value: { Ref: `${fn}LambdaFunction` } })
const apiMetric = (name: string) => ({
  Metric: { Namespace: 'AWS/ApiGateway', MetricName: name, Dimensions: [{ Name: 'ApiId', Value: { Ref: 'HttpApi' } }] },
  Period: 300,
  Stat: 'Sum',
})
const EXPECTED = {
  DispatchDeadLetterQueueAlarm: alarmOn('dlq-not-empty', 'AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'Maximum', {
    Name: 'QueueName',
    Value: { 'Fn::GetAtt': ['DispatchDeadLetterQueue', 'QueueName'] },
  }),
  DispatchEventFailureQueueAlarm: alarmOn('event-failures-not-empty', 'AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'Maximum', {
    Name: 'QueueName',
    Value: { 'Fn::GetAtt': ['DispatchEventFailureQueue', 'QueueName'] },
  }),
  HttpServerErrorRateAlarm: {
    AlarmName: 'mesa-dispatch-dev-http-5xx-rate',
    AlarmDescription: expect.stringContaining('Runbook in docs/operations.md.'),
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    Threshold: 5,
    EvaluationPeriods: 1,
    TreatMissingData: 'notBreaching',
    Metrics: [
      { Id: 'errors', ReturnData: false, MetricStat: apiMetric('5xx') },
      { Id: 'requests', ReturnData: false, MetricStat: apiMetric('Count') },
      { Id: 'rate', Label: '5xx answers, % of requests', Expression: 'IF(requests > 0, 100 * errors / requests, 0)', ReturnData: true },
    ],
  },
  ...Object.fromEntries(
    FUNCTIONS.flatMap((fn) => [
      [`${fn}ErrorsAlarm`, lambdaAlarm(fn, 'Errors')],
      [`${fn}ThrottlesAlarm`, lambdaAlarm(fn, 'Throttles')],
    ]),
  ),
}

describe('the alarms in serverless package', () => {
  it('are exactly these: queue depths, the HTTP 5xx rate, and each function’s errors and throttles', () => {
    expect(alarms(templates.plain!)).toEqual(EXPECTED)
  })

  it('watch the queues and the API that the template itself creates', () => {
    const { Resources } = templates.plain!
    expect([Resources.DispatchDeadLetterQueue?.Type, Resources.DispatchEventFailureQueue?.Type, Resources.HttpApi?.Type]).toEqual([
      'AWS::SQS::Queue',
      'AWS::SQS::Queue',
      'AWS::ApiGatewayV2::Api',
    ])
    for (const fn of FUNCTIONS) expect(Resources[`${fn}LambdaFunction`]?.Type, fn).toBe('AWS::Lambda::Function')
  })

  it('notify nobody when no topic is set: no alarm has actions', () => {
    const actions = Object.values(alarms(templates.plain!)).filter((alarm) => 'AlarmActions' in alarm || 'OKActions' in alarm)
    expect(actions).toEqual([])
  })

  it("notify the stage's SNS topic, on alarm and on recovery, when MESA_ALARM_TOPIC_ARN is set", () => {
    const configured = alarms(templates.configured!)
    expect(Object.keys(configured).sort()).toEqual(Object.keys(EXPECTED).sort())
    for (const [name, alarm] of Object.entries(configured)) {
      expect({ name, AlarmActions: alarm.AlarmActions, OKActions: alarm.OKActions }).toEqual({ name, AlarmActions: [TOPIC], OKActions: [TOPIC] })
    }
  })

  it('are each explained in the runbook, docs/operations.md, under the name the stack gives it', () => {
    const page = readFileSync(join(ROOT, 'docs', 'operations.md'), 'utf8')
    const runbook = page.slice(page.indexOf('## Alarms'), page.indexOf('\n## ', page.indexOf('## Alarms')))
    const names = Object.values(alarms(templates.plain!)).map((alarm) =>
      String(alarm.AlarmName)
        .replace('mesa-dispatch-dev-', 'mesa-dispatch-<stage>-')
        .replace(/-(http|sqs|eventbridge|cleanup)-(errors|throttles)$/, '-<fn>-$2'),
    )
    expect(names.filter((name) => !runbook.includes(`| \`${name}\``))).toEqual([])
  })

  it('name the dead-letter queue ARN in the stack outputs, for a redrive', () => {
    expect(templates.plain!.Outputs.DispatchDeadLetterQueueArn).toEqual({ Value: { 'Fn::GetAtt': ['DispatchDeadLetterQueue', 'Arn'] } })
    expect(templates.plain!.Outputs.DispatchEventFailureQueueUrl).toEqual({ Value: { Ref: 'DispatchEventFailureQueue' } })
  })
})

describe('tracing and metrics settings in serverless package', () => {
  const fn = (template: Template, name: string) => template.Resources[`${name}LambdaFunction`]!.Properties
  const xray = (template: Template) => JSON.stringify(template.Resources.IamRoleLambdaExecution?.Properties).includes('xray:PutTraceSegments')

  it('leaves X-Ray off by default, and turns active tracing on for every function with MESA_TRACING=true', () => {
    expect(FUNCTIONS.map((name) => fn(templates.plain!, name).TracingConfig)).toEqual(FUNCTIONS.map(() => undefined))
    expect(FUNCTIONS.map((name) => fn(templates.configured!, name).TracingConfig)).toEqual(FUNCTIONS.map(() => ({ Mode: 'Active' })))
    expect([xray(templates.plain!), xray(templates.configured!)]).toEqual([false, true])
  })

  it('passes the metrics settings to every function, empty (the defaults) unless set', () => {
    const variables = (template: Template, name: string) => (fn(template, name).Environment as { Variables: Record<string, string> }).Variables
    expect(FUNCTIONS.map((name) => [variables(templates.plain!, name).MESA_METRICS, variables(templates.plain!, name).MESA_METRICS_NAMESPACE])).toEqual(
      FUNCTIONS.map(() => ['', '']),
    )
    expect(FUNCTIONS.map((name) => variables(templates.configured!, name).MESA_METRICS_NAMESPACE)).toEqual(FUNCTIONS.map(() => 'MesaDispatch/dev'))
  })

  it('gives DISPATCH_TOKEN_PREVIOUS to the http function alone, empty unless a rotation sets it', () => {
    const previous = (template: Template) =>
      FUNCTIONS.map((name) => (fn(template, name).Environment as { Variables: Record<string, string> }).Variables.DISPATCH_TOKEN_PREVIOUS)
    expect([previous(templates.plain!), previous(templates.configured!)]).toEqual([
      ['', undefined, undefined, undefined],
      ['previous-dispatch-token', undefined, undefined, undefined],
    ])
  })
})

describe('the dashboard', () => {
  /** The body as CloudWatch gets it, each `${…}` of Fn::Sub kept as written, and the template names it refers to. */
  const body = () => {
    const dashboard = templates.plain!.Resources.Dashboard!
    const text = (dashboard.Properties.DashboardBody as { 'Fn::Sub': string })['Fn::Sub']
    const refs = [...text.matchAll(/\$\{([^}]+)\}/g)].map((match) => match[1]!)
    return { json: JSON.parse(text.replace(/\$\{([^}]+)\}/g, '<$1>')) as { widgets: Widget[] }, refs }
  }
  type Widget = { type: string; properties: { metrics?: unknown[][]; alarms?: string[] } }
  const metricNames = (widget: Widget) =>
    (widget.properties.metrics ?? []).map((row) =>
      typeof row[0] === 'string'
        ? `${row[0]} ${row[1]}`
        : /\{([^,]+),([^}]+)\} MetricName="(\w+)"/
            .exec((row[0] as { expression: string }).expression)!
            .slice(1)
            .join(' '),
    )

  it('is in the template as mesa-dispatch-<stage>, named in the stack outputs', () => {
    expect(templates.plain!.Resources.Dashboard).toMatchObject({ Type: 'AWS::CloudWatch::Dashboard', Properties: { DashboardName: 'mesa-dispatch-dev' } })
    expect(templates.plain!.Outputs.DashboardName).toEqual({ Value: { Ref: 'Dashboard' } })
  })

  it('shows dispatches by outcome, failures by error, Redis round trips p50 and p99, and the dead-letter queues, as the functions write them', () => {
    const widgets = body().json.widgets.filter((widget) => widget.type === 'metric')
    expect(widgets.map(metricNames)).toEqual([
      ['MesaDispatch Function,Outcome Dispatches', 'MesaDispatch Function,Outcome Dispatches', 'MesaDispatch Function,Outcome Dispatches'],
      Array(3).fill('MesaDispatch ErrorName,Function,Outcome Dispatches'),
      Array(6).fill('MesaDispatch RedisRoundTripTime'),
      ['AWS/SQS ApproximateNumberOfMessagesVisible', 'AWS/SQS ApproximateNumberOfMessagesVisible'],
    ])
    // Each name is one the functions write (src/observe/dispatch-metrics.ts), under dimensions the EMF lines carry.
    expect(Object.keys(METRICS)).toEqual(expect.arrayContaining(['Dispatches', 'RedisRoundTripTime']))
    const stats = widgets[2]!.properties.metrics!.map((row) => (row[4] as { stat: string }).stat)
    expect(stats).toEqual(['p50', 'p99', 'p50', 'p99', 'p50', 'p99'])
  })

  it("shows every alarm of the stack, by the alarm's own ARN, and refers to nothing the template lacks", () => {
    const alarms = Object.entries(templates.plain!.Resources).flatMap(([name, resource]) => (resource.Type === 'AWS::CloudWatch::Alarm' ? [name] : []))
    const { json, refs } = body()
    expect(json.widgets.find((widget) => widget.type === 'alarm')?.properties.alarms).toEqual(alarms.map((name) => `<${name}.Arn>`))
    expect(alarms).toHaveLength(11)
    const names = refs.map((ref) => ref.split('.')[0]!).filter((ref) => !ref.startsWith('AWS::'))
    expect(names.filter((name) => !(name in templates.plain!.Resources))).toEqual([])
  })

  it('uses the metrics namespace the functions are given', () => {
    expect(JSON.stringify(templates.configured!.Resources.Dashboard!.Properties.DashboardBody)).toContain('{MesaDispatch/dev,Function,Outcome}')
  })

  it('is named, with its console URL, once serverless deploy has deployed the stack', () => {
    const printed: string[] = []
    const serverless = { service: { resources: { Resources: templates.plain!.Resources } }, getProvider: () => ({ getRegion: () => 'eu-west-1' }) }
    const plugin = new DashboardPlugin(serverless, {}, { log: { notice: (line: string) => printed.push(line) } })

    plugin.hooks['after:deploy:deploy']!()

    expect(printed).toEqual([
      'Dashboard: mesa-dispatch-dev  https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards/dashboard/mesa-dispatch-dev',
    ])
  })
})
