import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type BuiltBundle, buildBundles } from '../esbuild.config.mjs'
import { copyService, describeRun, runServerless, type ServerlessRun, type ServiceCopy } from './support/serverless-cli'
import { readZip } from './support/zip'

// `serverless package --stage dev` (osls) on a copy of the service as a fresh clone has it, with no dist/: no
// network, no AWS credentials, the bundles built by the project's plugin, and the CloudFormation template it
// writes holds every trigger the functions rely on.

interface Resource {
  Type: string
  Properties: Record<string, unknown>
  DependsOn?: string | string[]
}
interface Template {
  Resources: Record<string, Resource>
}

const LAMBDAS = ['http', 'sqs', 'eventbridge', 'cleanup']

let service: ServiceCopy
let hadDist: boolean
let run: ServerlessRun
/** `serverless deploy` on a second fresh copy: it builds and packages, then stops for want of AWS credentials. */
let deployCopy: ServiceCopy
let deploy: ServerlessRun
let template: Template
/** The same sources built by buildBundles() directly, to compare the packaged bundles with. */
let reference: { dir: string; built: BuiltBundle[] }

// Picked up through ${env:…} in serverless.yml, to show that settings and secrets come from the environment.
const ENV = {
  UPSTASH_REDIS_REST_URL: 'https://example-12345.upstash.io',
  UPSTASH_REDIS_REST_TOKEN: 'upstash-token-from-env',
  DISPATCH_TOKEN: 'dispatch-token-from-env',
  MESA_NAMESPACE: 'api',
  MESA_SYNC: 'true',
  MAX_BACKLOG_PAGE_BYTES: '524288',
  UPSTASH_SCRIPT_KEY_LOCKING: 'true',
}

beforeAll(async () => {
  ;[service, deployCopy] = await Promise.all([copyService(), copyService()])
  hadDist = existsSync(join(service.dir, 'dist')) || existsSync(join(deployCopy.dir, 'dist'))
  const dir = mkdtempSync(join(tmpdir(), 'mesa-sls-reference-'))
  ;[run, deploy, reference] = await Promise.all([
    runServerless(service.dir, ['package', '--stage', 'dev'], { env: ENV }),
    runServerless(deployCopy.dir, ['deploy', '--stage', 'dev'], { env: ENV }),
    buildBundles({ only: LAMBDAS, outdir: dir }).then((built) => ({ dir, built })),
  ])
  if (run.code === 0) {
    template = JSON.parse(readFileSync(join(service.dir, '.serverless', 'cloudformation-template-update-stack.json'), 'utf8')) as Template
  }
}, 120_000)
afterAll(async () => {
  await service?.close()
  await deployCopy?.close()
  if (reference) rmSync(reference.dir, { recursive: true, force: true })
})

const ofType = (type: string) => Object.entries(template.Resources).filter(([, resource]) => resource.Type === type)
const only = (type: string): Resource => {
  const found = ofType(type)
  expect(found, `one ${type}`).toHaveLength(1)
  return found[0]![1]
}
const fn = (name: string): Resource => template.Resources[`${name[0]!.toUpperCase()}${name.slice(1)}LambdaFunction`]!

const zipOf = (dir: string, name: string) => readZip(join(dir, '.serverless', `${name}.zip`))
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`

describe('serverless package --stage dev', () => {
  it('succeeds offline without AWS credentials, never trying the network', () => {
    expect(run.code, describeRun(run)).toBe(0)
    expect(run.networkAttempts).toEqual([])
  })

  it('builds the bundles itself, on a copy that had no dist/, and says so with their sizes', () => {
    expect(hadDist).toBe(false)
    const sizes = LAMBDAS.map((name) => {
      const zip = zipOf(service.dir, name)
      return `${name} ${kib(zip.get(`dist/${name}/index.js`)!.length)} + map ${kib(zip.get(`dist/${name}/index.js.map`)!.length)}`
    })
    expect(run.stderr.split('\n')).toContain(`Built the bundles from the sources (esbuild.config.mjs): ${sizes.join(', ')}`)
  })

  it('packages each function as its own zip holding only its bundle, its source map and the package.json marking it ESM', () => {
    expect(LAMBDAS.map((name) => [...zipOf(service.dir, name).keys()].sort())).toEqual(
      LAMBDAS.map((name) => [`dist/${name}/index.js`, `dist/${name}/index.js.map`, `dist/${name}/package.json`]),
    )
  })

  it('zips exactly the code buildBundles() makes of the same sources, linked to its map', () => {
    for (const { name, file } of reference.built) {
      const zipped = zipOf(service.dir, name).get(`dist/${name}/index.js`)!
      expect(zipped.equals(readFileSync(file)), name).toBe(true)
      expect(zipped.toString('utf8').trimEnd().split('\n').at(-1), name).toBe('//# sourceMappingURL=index.js.map')
    }
  })

  it('runs the built bundles on nodejs22.x, arm64', () => {
    for (const name of LAMBDAS) {
      expect(fn(name).Properties, name).toMatchObject({ Handler: `dist/${name}/index.handler`, Runtime: 'nodejs22.x', Architectures: ['arm64'] })
    }
  })

  it('passes settings and secrets from the environment, for the http function only where only it needs them', () => {
    const shared = {
      UPSTASH_REDIS_REST_URL: ENV.UPSTASH_REDIS_REST_URL,
      UPSTASH_REDIS_REST_TOKEN: ENV.UPSTASH_REDIS_REST_TOKEN,
      MESA_NAMESPACE: 'api',
      MESA_SYNC: 'true',
      UPSTASH_SCRIPT_KEY_LOCKING: 'true',
    }
    expect(fn('http').Properties.Environment).toEqual({
      Variables: expect.objectContaining({ ...shared, DISPATCH_TOKEN: ENV.DISPATCH_TOKEN, DISPATCH_SIGNING_SECRET: '', MAX_BACKLOG_PAGE_BYTES: '524288' }),
    })
    expect(fn('sqs').Properties.Environment).toEqual({ Variables: expect.objectContaining(shared) })
    const sqsVariables = (fn('sqs').Properties.Environment as { Variables: Record<string, string> }).Variables
    expect(Object.keys(sqsVariables)).not.toContain('DISPATCH_TOKEN')
    expect(Object.keys(sqsVariables)).not.toContain('MAX_BACKLOG_PAGE_BYTES')
  })

  it('gives no function NODE_OPTIONS: --enable-source-maps would parse its map at every cold start, which it reads at its first error instead', () => {
    const options = LAMBDAS.map((name) => (fn(name).Properties.Environment as { Variables: Record<string, string> }).Variables.NODE_OPTIONS)
    expect(options).toEqual(LAMBDAS.map(() => undefined))
  })

  it('routes POST /dispatch, the question routes and GET /health of an HTTP API to the http function', () => {
    const routes = ofType('AWS::ApiGatewayV2::Route').map(([, route]) => route.Properties.RouteKey)
    expect(routes.sort()).toEqual(['GET /health', 'POST /backlog', 'POST /backlog/clear', 'POST /dispatch', 'POST /presence'])
    // Every route goes to the one integration, which invokes the http function.
    const targets = new Set(ofType('AWS::ApiGatewayV2::Route').map(([, route]) => JSON.stringify(route.Properties.Target)))
    expect(targets.size).toBe(1)
    expect(JSON.stringify(only('AWS::ApiGatewayV2::Integration').Properties.IntegrationUri)).toContain('HttpLambdaFunction')
  })

  it('maps the queue to the sqs function with partial batch responses', () => {
    expect(only('AWS::Lambda::EventSourceMapping').Properties).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': ['DispatchQueue', 'Arn'] },
      FunctionName: { 'Fn::GetAtt': ['SqsLambdaFunction', 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 25,
      MaximumBatchingWindowInSeconds: 1,
    })
  })

  it('redrives failed records to the dead-letter queue and keeps the queue visibility at 6x the function timeout', () => {
    const queue = template.Resources.DispatchQueue!
    expect(queue.Type).toBe('AWS::SQS::Queue')
    expect(queue.Properties.RedrivePolicy).toEqual({ deadLetterTargetArn: { 'Fn::GetAtt': ['DispatchDeadLetterQueue', 'Arn'] }, maxReceiveCount: 5 })
    expect(template.Resources.DispatchDeadLetterQueue?.Type).toBe('AWS::SQS::Queue')
    expect(queue.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * (fn('sqs').Properties.Timeout as number))
  })

  it('creates the custom event bus and a rule on it for detail-type mesa.dispatch', () => {
    expect(only('AWS::Events::EventBus').Properties).toEqual({ Name: 'mesa-dispatch-dev' })
    const rules = ofType('AWS::Events::Rule').map(([, rule]) => rule.Properties)
    expect(rules).toContainEqual(
      expect.objectContaining({
        EventBusName: 'mesa-dispatch-dev',
        EventPattern: { 'detail-type': ['mesa.dispatch'] },
        State: 'ENABLED',
        Targets: [expect.objectContaining({ Arn: { 'Fn::GetAtt': ['EventbridgeLambdaFunction', 'Arn'] } })],
      }),
    )
  })

  it('runs the cleanup function every hour, enabled, with the caps it reads', () => {
    const schedules = ofType('AWS::Events::Rule').filter(([, rule]) => rule.Properties.ScheduleExpression !== undefined)
    const cleanup = schedules.map(([, rule]) => rule.Properties).filter((rule) => JSON.stringify(rule.Targets).includes('CleanupLambdaFunction'))
    expect(cleanup).toEqual([expect.objectContaining({ ScheduleExpression: 'rate(1 hour)', State: 'ENABLED' })])
    expect(fn('cleanup').Properties.Environment).toEqual({
      // Empty unless set when packaging: the function then applies the defaults of src/limits.ts.
      Variables: expect.objectContaining({ MESA_SYNC_MAX_AGE_SECONDS: '', MESA_SYNC_MAX_MESSAGES: '', MESA_SYNC_MAX_BYTES: '' }),
    })
  })

  it('has a disabled schedule whose input is a valid dispatch request, the same as events/schedule.json', () => {
    const schedules = ofType('AWS::Events::Rule').filter(
      ([, rule]) => rule.Properties.ScheduleExpression !== undefined && JSON.stringify(rule.Properties.Targets).includes('EventbridgeLambdaFunction'),
    )
    expect(schedules).toHaveLength(1)
    const schedule = schedules[0]![1].Properties
    expect(schedule).toMatchObject({ ScheduleExpression: 'rate(5 minutes)', State: 'DISABLED' })
    const [target] = schedule.Targets as Array<{ Input: string; Arn: unknown }>
    expect(target!.Arn).toEqual({ 'Fn::GetAtt': ['EventbridgeLambdaFunction', 'Arn'] })
    expect(JSON.parse(target!.Input)).toEqual({ message: { op: 0, d: { ts: 'scheduled' }, t: 'HEARTBEAT' }, recipients: ['*'] })
    expect(JSON.parse(target!.Input)).toEqual(JSON.parse(readFileSync(join(service.dir, 'events', 'schedule.json'), 'utf8')))
  })

  it('keeps EventBridge events that still fail after Lambda retries them', () => {
    const configs = ofType('AWS::Lambda::EventInvokeConfig').map(([, config]) => config.Properties)
    expect(configs.find((config) => JSON.stringify(config.FunctionName).includes('Eventbridge'))).toMatchObject({
      FunctionName: { Ref: 'EventbridgeLambdaFunction' },
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': ['DispatchEventFailureQueue', 'Arn'] } } },
    })
  })
})

describe('serverless deploy --stage dev', () => {
  it('builds and packages the bundles itself before it needs AWS, then stops offline for want of credentials', () => {
    expect(deploy.code, describeRun(deploy)).toBe(1)
    expect(deploy.stdout).toContain('AWS provider credentials not found.')
    expect(deploy.networkAttempts).toEqual([])
    expect(
      LAMBDAS.map((name) =>
        zipOf(deployCopy.dir, name)
          .get(`dist/${name}/index.js`)
          ?.equals(zipOf(service.dir, name).get(`dist/${name}/index.js`)!),
      ),
    ).toEqual(LAMBDAS.map(() => true))
  })
})

describe('the offline guard', () => {
  // The control for the checks above: with stage prod, osls must fetch the secrets from SSM, and the guard
  // catches that attempt, so an empty list of attempts for stage dev means something.
  it('catches osls reaching for SSM when the stage is prod', async () => {
    const prod = await runServerless(service.dir, ['package', '--stage', 'prod', '--package', join(service.dir, 'prod-package')], {
      // Credentials that cannot work: without any, osls would stop before trying the network.
      env: { AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE', AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', SLS_AWS_REQUEST_MAX_RETRIES: '0' },
    })
    expect(prod.code, describeRun(prod)).not.toBe(0)
    expect(prod.networkAttempts.join('\n')).toMatch(/ssm\.[a-z0-9-]+\.amazonaws\.com/)
  }, 60_000)
})
