import { copyFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { lambdaNode } from './support/node22'
import { runCommand } from './support/processes'
import { copyService, describeRun, invokeResult, runServerless, type ServerlessRun, type ServiceCopy } from './support/serverless-cli'

// What an error thrown by a deployed bundle looks like: its class name kept (esbuild keepNames) and its stack
// mapped to the TypeScript sources through the .map beside the bundle, which each function reads at its first error
// (src/triggers/mapped-stacks.ts), with no NODE_OPTIONS. Before, invoke local said `"errorType": "g"` and every frame
// pointed into `index.js:1:…`.

// Well-formed, and never contacted: the errors below come before any call to Redis.
const REDIS = { UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:9', UPSTASH_REDIS_REST_TOKEN: 'dummy-upstash-token' }
const MISCONFIGURED = { ...REDIS, UPSTASH_REDIS_REST_URL: 'not-a-url', MESA_SYNC: 'maybe' }

let service: ServiceCopy
/** eventbridge invoked with a schedule input whose message is invalid: the handler throws a ValidationError. */
let invalid: ServerlessRun
/** sqs invoked with a malformed Redis URL and MESA_SYNC: loading the bundle throws a ConfigError naming both. */
let misconfigured: ServerlessRun

beforeAll(async () => {
  service = await copyService()
  // Two functions, so that each invoke builds its own bundle and the two never write the same folder.
  ;[invalid, misconfigured] = await Promise.all([
    runServerless(service.dir, ['invoke', 'local', '-f', 'eventbridge', '--stage', 'dev', '--data', '{"message":{"op":-1,"d":1}}'], {
      env: REDIS,
      timeoutMs: 120_000,
    }),
    runServerless(service.dir, ['invoke', 'local', '-f', 'sqs', '--stage', 'dev', '-p', 'events/sqs.json'], { env: MISCONFIGURED, timeoutMs: 120_000 }),
  ])
}, 180_000)
afterAll(() => service?.close())

/**
 * Each stack frame in the service copy, as the source file it points to (`at name (file:line:column)`, or `at
 * file:line:column` for an anonymous function), or the whole line when it is not a .ts file.
 */
const framesIn = (lines: string[]) =>
  lines
    .filter((line) => line.includes(service.dir))
    .map((line) => /(?:\(|at )(\/[^ ]+\.ts):\d+:\d+\)?$/.exec(line)?.[1]?.slice(service.dir.length) ?? line.trim())

describe('an error thrown by a built bundle under serverless invoke local', () => {
  it('reports its class as errorType, and a stack in the TypeScript sources', () => {
    expect(invalid.code, describeRun(invalid)).toBe(1)
    expect(invalid.networkAttempts).toEqual([])
    const { errorType, errorMessage, stackTrace } = invokeResult(invalid.stdout) as { errorType: string; errorMessage: string; stackTrace: string[] }
    expect({ errorType, errorMessage, first: stackTrace[0] }).toEqual({
      errorType: 'ValidationError',
      errorMessage: 'message.op must be a non-negative integer, got the number -1',
      first: 'ValidationError: message.op must be a non-negative integer, got the number -1',
    })
    const frames = framesIn(stackTrace)
    expect(frames[0]).toBe('/src/errors.ts')
    expect(frames.at(-1)).toBe('/functions/eventbridge.ts')
    expect(frames.filter((frame) => !/^\/(src|functions)\/[\w/.-]+\.ts$/.test(frame))).toEqual([])
  })

  it('reports wrong settings found while loading as one line naming every variable, with no stack', () => {
    expect(misconfigured.code, describeRun(misconfigured)).toBe(1)
    expect(misconfigured.stdout).toBe(`Error:\nException encountered when loading ${join(service.dir, 'dist', 'sqs', 'index')}\n`)
    const lines = misconfigured.stderr.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('Built the bundles'))
    expect(lines.slice(0, 2)).toEqual([
      '× [ConfigError: 2 settings are wrong: UPSTASH_REDIS_REST_URL must be an http(s) URL; MESA_SYNC must be true or false]',
      expect.stringMatching(/^Environment: /),
    ])
  })
})

describe('an error thrown by a built bundle in plain node, as Lambda runs it', () => {
  /** Runs the eventbridge bundle the invoke above built (from `dir`) on an invalid schedule input, and reports the error it throws. */
  async function invokeInvalid(dir: string) {
    const script =
      'const { handler } = await import(process.argv[1]); const context = { functionName: "test", awsRequestId: "1", getRemainingTimeInMillis: () => 5000 }; ' +
      'try { await handler({ message: { op: -1, d: 1 } }, context) } catch (error) { console.log(JSON.stringify({ name: error.name, constructor: error.constructor.name, frame: error.stack.split("\\n")[1].trim() })) }'
    const run = await runCommand(lambdaNode(), ['--input-type=module', '-e', script, pathToFileURL(join(dir, 'index.js')).href], {
      env: { PATH: process.env.PATH, ...REDIS, MESA_METRICS: 'false' },
    })
    expect(run.code, run.stderr).toBe(0)
    return JSON.parse(run.stdout.split('\n').filter((line) => line.startsWith('{"name"'))[0]!) as { name: string; constructor: string; frame: string }
  }

  it('keeps the class name, and maps the stack to src/ through the map beside the bundle, with no NODE_OPTIONS', async () => {
    const bundled = join(service.dir, 'dist', 'eventbridge')
    // The control: the same bundle without its map points into the minified file.
    const unmapped = join(service.dir, 'dist', 'eventbridge-without-map')
    mkdirSync(unmapped)
    for (const file of ['index.js', 'package.json']) copyFileSync(join(bundled, file), join(unmapped, file))

    const [mapped, plain] = await Promise.all([invokeInvalid(bundled), invokeInvalid(unmapped)])

    expect(mapped).toEqual({ name: 'ValidationError', constructor: 'ValidationError', frame: expect.stringMatching(/\(\/.+\/src\/[\w/.-]+\.ts:\d+:\d+\)$/) })
    expect(mapped.frame.startsWith('at ') && mapped.frame.includes(join(service.dir, 'src'))).toBe(true)
    expect(plain).toEqual({
      name: 'ValidationError',
      constructor: 'ValidationError',
      frame: expect.stringMatching(/\/dist\/eventbridge-without-map\/index\.js:\d+:\d+\)$/),
    })
  })
})
