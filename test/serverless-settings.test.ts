import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { describeRefusal, findEmptySettings, isEmptyAllowed, readRawConfiguration } from '../scripts/serverless/settings.mjs'
import { copyService, describeRun, ROOT, runServerless, type ServerlessRun, type ServiceCopy } from './support/serverless-cli'

// The settings check of scripts/serverless/require-settings.mjs, through osls itself: a package or deploy whose
// Redis settings, or both auth secrets, resolved empty is refused before anything is built or sent to AWS.
// Every run below starts at once, on one copy: only the allowed package writes anything there.

const REDIS = { UPSTASH_REDIS_REST_URL: 'https://example-12345.upstash.io', UPSTASH_REDIS_REST_TOKEN: 'upstash-token-from-env' }
const TOKEN = { DISPATCH_TOKEN: 'dispatch-token-from-env' }
const SIGNING = { DISPATCH_SIGNING_SECRET: 'signing-secret-from-env' }

const CASES = {
  redisEmpty: [['package', '--stage', 'dev'], TOKEN],
  authEmpty: [['package', '--stage', 'dev'], REDIS],
  // deploy runs package's check (it packages first), so this is also package's refusal of both groups.
  deployBothEmpty: [['deploy', '--stage', 'dev'], {}],
  // sqs reads no auth secret: deploying it alone is refused for Redis only.
  deploySqsBothEmpty: [['deploy', 'function', '-f', 'sqs', '--stage', 'dev'], {}],
  allowed: [['package', '--stage', 'dev'], { MESA_ALLOW_EMPTY_SETTINGS: 'true' }],
} satisfies Record<string, [string[], Record<string, string>]>

let service: ServiceCopy
const runs = {} as Record<keyof typeof CASES, ServerlessRun>

beforeAll(async () => {
  service = await copyService()
  // Five osls processes at once on a 2-core box: give each the time all of them take.
  await Promise.all(
    Object.entries(CASES).map(async ([name, [args, env]]) => {
      runs[name as keyof typeof CASES] = await runServerless(service.dir, args, { env, timeoutMs: 180_000 })
    }),
  )
}, 240_000)
afterAll(() => service?.close())

/** What osls prints for an error a plugin throws: `Error:` and the message, on stdout. */
const errorOf = (run: ServerlessRun) => run.stdout.slice(run.stdout.indexOf('Error:\n') + 'Error:\n'.length).trimEnd()

const REDIS_BOTH = '- UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN are empty: every function reaches Redis with the URL and the token.'
const AUTH_WHY = 'the http function authenticates requests with the keys they make, and refuses every request without them.'
const AUTH_ALL = `- DISPATCH_KEYS, DISPATCH_TOKEN and DISPATCH_SIGNING_SECRET are all empty: ${AUTH_WHY}`

describe('serverless package and deploy with empty settings', () => {
  it('refuse a stage whose Redis URL and token are empty, naming both and how to set them', () => {
    expect(runs.redisEmpty.code, describeRun(runs.redisEmpty)).toBe(1)
    expect(errorOf(runs.redisEmpty)).toBe(
      [
        'Refusing to run `serverless package` for stage "dev": settings its functions need are empty.',
        REDIS_BOTH,
        'Set them where serverless.yml reads them for stage "dev", then run it again:',
        '  UPSTASH_REDIS_REST_URL: export UPSTASH_REDIS_REST_URL=…',
        '  UPSTASH_REDIS_REST_TOKEN: export UPSTASH_REDIS_REST_TOKEN=…',
        'To run it with them empty anyway (CI packaging offline, say), set MESA_ALLOW_EMPTY_SETTINGS=true.',
      ].join('\n'),
    )
  })

  it('refuse a stage whose DISPATCH_KEYS, DISPATCH_TOKEN and DISPATCH_SIGNING_SECRET are all empty', () => {
    expect(runs.authEmpty.code, describeRun(runs.authEmpty)).toBe(1)
    expect(errorOf(runs.authEmpty)).toBe(
      [
        'Refusing to run `serverless package` for stage "dev": settings its functions need are empty.',
        AUTH_ALL,
        'Set them where serverless.yml reads them for stage "dev", then run it again:',
        '  DISPATCH_KEYS: export DISPATCH_KEYS=…',
        '  DISPATCH_TOKEN: export DISPATCH_TOKEN=…',
        '  DISPATCH_SIGNING_SECRET: export DISPATCH_SIGNING_SECRET=…',
        'To run it with them empty anyway (CI packaging offline, say), set MESA_ALLOW_EMPTY_SETTINGS=true.',
      ].join('\n'),
    )
  })

  it('name both groups when both are empty, for deploy too, before building or asking AWS anything', () => {
    const { deployBothEmpty } = runs
    expect(deployBothEmpty.code, describeRun(deployBothEmpty)).toBe(1)
    expect(errorOf(deployBothEmpty)).toBe(
      [
        'Refusing to run `serverless deploy` for stage "dev": settings its functions need are empty.',
        REDIS_BOTH,
        AUTH_ALL,
        'Set them where serverless.yml reads them for stage "dev", then run it again:',
        '  UPSTASH_REDIS_REST_URL: export UPSTASH_REDIS_REST_URL=…',
        '  UPSTASH_REDIS_REST_TOKEN: export UPSTASH_REDIS_REST_TOKEN=…',
        '  DISPATCH_KEYS: export DISPATCH_KEYS=…',
        '  DISPATCH_TOKEN: export DISPATCH_TOKEN=…',
        '  DISPATCH_SIGNING_SECRET: export DISPATCH_SIGNING_SECRET=…',
        'To run it with them empty anyway (CI packaging offline, say), set MESA_ALLOW_EMPTY_SETTINGS=true.',
      ].join('\n'),
    )
    expect({ built: deployBothEmpty.stderr.includes('Built the bundles'), networkAttempts: deployBothEmpty.networkAttempts }).toEqual({
      built: false,
      networkAttempts: [],
    })
  })

  it('check, for deploy function, only what that one function reads', () => {
    const { deploySqsBothEmpty } = runs
    expect(deploySqsBothEmpty.code, describeRun(deploySqsBothEmpty)).toBe(1)
    expect(errorOf(deploySqsBothEmpty)).toBe(
      [
        'Refusing to run `serverless deploy function` for stage "dev": settings its functions need are empty.',
        REDIS_BOTH,
        'Set them where serverless.yml reads them for stage "dev", then run it again:',
        '  UPSTASH_REDIS_REST_URL: export UPSTASH_REDIS_REST_URL=…',
        '  UPSTASH_REDIS_REST_TOKEN: export UPSTASH_REDIS_REST_TOKEN=…',
        'To run it with them empty anyway (CI packaging offline, say), set MESA_ALLOW_EMPTY_SETTINGS=true.',
      ].join('\n'),
    )
    expect(deploySqsBothEmpty.networkAttempts).toEqual([])
  })

  it('go ahead with MESA_ALLOW_EMPTY_SETTINGS=true, warning what is empty, and write the empty values', () => {
    const { allowed } = runs
    expect(allowed.code, describeRun(allowed)).toBe(0)
    expect(allowed.networkAttempts).toEqual([])
    expect(allowed.stderr.split('\n')).toContain(
      'Warning: MESA_ALLOW_EMPTY_SETTINGS=true: `serverless package` goes ahead for stage "dev" with UPSTASH_REDIS_REST_URL, UPSTASH_REDIS_REST_TOKEN, DISPATCH_KEYS, DISPATCH_TOKEN and DISPATCH_SIGNING_SECRET empty; its functions cannot work until they are set.',
    )
    const template = JSON.parse(readFileSync(join(service.dir, '.serverless', 'cloudformation-template-update-stack.json'), 'utf8'))
    expect(template.Resources.HttpLambdaFunction.Properties.Environment.Variables).toMatchObject({
      UPSTASH_REDIS_REST_URL: '',
      UPSTASH_REDIS_REST_TOKEN: '',
      DISPATCH_KEYS: '',
      DISPATCH_TOKEN: '',
      DISPATCH_SIGNING_SECRET: '',
    })
  })
})

describe('which settings count as missing', () => {
  const all = { ...REDIS, ...TOKEN, ...SIGNING }
  const names = (environments: Array<Record<string, string>>) => findEmptySettings(environments).map((each) => each.empty)

  it('all of Redis, each empty one named; blank counts as empty', () => {
    expect(names([{ ...all, UPSTASH_REDIS_REST_TOKEN: '' }])).toEqual([['UPSTASH_REDIS_REST_TOKEN']])
    expect(names([{ ...all, UPSTASH_REDIS_REST_URL: '  ' }])).toEqual([['UPSTASH_REDIS_REST_URL']])
  })

  it('one of the auth secrets, either one, and only where a function declares them', () => {
    expect(names([{ ...REDIS, ...SIGNING, DISPATCH_TOKEN: '' }])).toEqual([])
    expect(names([{ ...REDIS, ...TOKEN, DISPATCH_SIGNING_SECRET: '' }])).toEqual([])
    expect(names([{ ...REDIS, DISPATCH_TOKEN: '', DISPATCH_SIGNING_SECRET: '' }])).toEqual([['DISPATCH_TOKEN', 'DISPATCH_SIGNING_SECRET']])
    // sqs, eventbridge and cleanup have no DISPATCH_* variables at all.
    expect(names([REDIS, { ...REDIS, DISPATCH_TOKEN: '', DISPATCH_SIGNING_SECRET: '' }])).toEqual([['DISPATCH_TOKEN', 'DISPATCH_SIGNING_SECRET']])
    expect(names([REDIS, REDIS])).toEqual([])
  })

  it('unless MESA_ALLOW_EMPTY_SETTINGS is true; a value that is neither true nor false is refused', () => {
    expect([undefined, '', 'false', 'true'].map(isEmptyAllowed)).toEqual([false, false, false, true])
    expect(() => isEmptyAllowed('yes')).toThrow(new Error('MESA_ALLOW_EMPTY_SETTINGS must be true or false, not "yes"'))
  })
})

describe('the refusal for a stage that reads SSM', () => {
  // Stage prod's params resolve through SSM, which the offline tests cannot reach and which holds no empty values;
  // the message is built from serverless.yml as written, so it is checked here on the real file.
  it('names the SSM parameters of the stage’s params block, with the command that sets each', async () => {
    const raw = await readRawConfiguration(join(ROOT, 'serverless.yml'))
    const empty = findEmptySettings([
      { UPSTASH_REDIS_REST_URL: '', UPSTASH_REDIS_REST_TOKEN: 'x', DISPATCH_KEYS: '', DISPATCH_TOKEN: '', DISPATCH_SIGNING_SECRET: '' },
    ])

    expect(describeRefusal({ command: 'deploy', stage: 'prod', empty, raw })).toBe(
      [
        'Refusing to run `serverless deploy` for stage "prod": settings its functions need are empty.',
        '- UPSTASH_REDIS_REST_URL is empty: every function reaches Redis with the URL and the token.',
        AUTH_ALL,
        'Set them where serverless.yml reads them for stage "prod", then run it again:',
        '  UPSTASH_REDIS_REST_URL: aws ssm put-parameter --type SecureString --name /mesa-dispatch/prod/upstash-url --value …',
        '  DISPATCH_KEYS: aws ssm put-parameter --type SecureString --name /mesa-dispatch/prod/dispatch-keys --value …',
        '  DISPATCH_TOKEN: aws ssm put-parameter --type SecureString --name /mesa-dispatch/prod/dispatch-token --value …',
        '  DISPATCH_SIGNING_SECRET: aws ssm put-parameter --type SecureString --name /mesa-dispatch/prod/dispatch-signing-secret --value …',
        'To run it with them empty anyway (CI packaging offline, say), set MESA_ALLOW_EMPTY_SETTINGS=true.',
      ].join('\n'),
    )
  })
})
