import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { describeRefusal, findProblems, isEmptyAllowed, loadChecker, readRawConfiguration } from '../scripts/serverless/settings.mjs'
import { checkFunctionSettings } from '../src/function-settings'
import { copyService, describeRun, ROOT, runServerless, type ServerlessRun, type ServiceCopy } from './support/serverless-cli'

// The settings check of scripts/serverless/check-settings.mjs, through osls itself: a package or deploy is refused,
// before anything is built or sent to AWS, when a function would refuse its resolved settings at start, with every
// problem at once. It runs the functions' own readers (src/function-settings.ts), not a copy of their rules.
// Every run below starts at once, on one copy: only the allowed package writes anything there.

const REDIS = { UPSTASH_REDIS_REST_URL: 'https://example-12345.upstash.io', UPSTASH_REDIS_REST_TOKEN: 'upstash-token-from-env' }
const TOKEN = { DISPATCH_TOKEN: 'dispatch-token-from-env' }

const CASES = {
  // The new user's line: a URL without its scheme and a short token, which were packaged without a word.
  wrong: [['package', '--stage', 'dev'], { UPSTASH_REDIS_REST_URL: 'example.upstash.io', DISPATCH_TOKEN: 'short' }],
  authEmpty: [['package', '--stage', 'dev'], REDIS],
  // deploy runs package's check (it packages first).
  deployEmpty: [['deploy', '--stage', 'dev'], {}],
  // sqs reads no auth secret: deploying it alone is refused for Redis only.
  deploySqsEmpty: [['deploy', 'function', '-f', 'sqs', '--stage', 'dev'], {}],
  allowed: [['package', '--stage', 'dev'], { MESA_ALLOW_EMPTY_SETTINGS: 'true' }],
  allowedButWrong: [['package', '--stage', 'dev'], { MESA_ALLOW_EMPTY_SETTINGS: 'true', MESA_SYNC: 'maybe' }],
} satisfies Record<string, [string[], Record<string, string>]>

let service: ServiceCopy
const runs = {} as Record<keyof typeof CASES, ServerlessRun>

beforeAll(async () => {
  service = await copyService()
  // Six osls processes at once on a 2-core box: give each the time all of them take.
  await Promise.all(
    Object.entries(CASES).map(async ([name, [args, env]]) => {
      runs[name as keyof typeof CASES] = await runServerless(service.dir, args, { env, timeoutMs: 180_000 })
    }),
  )
}, 240_000)
afterAll(() => service?.close())

/** What osls prints for an error a plugin throws: `Error:` and the message, on stdout. */
const errorOf = (run: ServerlessRun) => run.stdout.slice(run.stdout.indexOf('Error:\n') + 'Error:\n'.length).trimEnd()

const ALL = '(http, sqs, eventbridge, cleanup)'
const NO_CREDENTIALS = '- DISPATCH_KEYS, DISPATCH_TOKEN or DISPATCH_SIGNING_SECRET must be set: without a key, the http function refuses every request (http)'
const ALLOW = 'To run it with empty settings anyway (CI packaging offline, say), set MESA_ALLOW_EMPTY_SETTINGS=true; wrong values are refused all the same.'
const SET = (stage: string) => `Set them where serverless.yml reads them for stage "${stage}", then run it again:`
const exported = (...names: string[]) => names.map((name) => `  ${name}: export ${name}=…`)

describe('serverless package and deploy', () => {
  it('refuse wrong settings, not only empty ones, naming every problem at once by its variable, never its value', () => {
    expect(runs.wrong.code, describeRun(runs.wrong)).toBe(1)
    expect(errorOf(runs.wrong)).toBe(
      [
        'Refusing to run `serverless package` for stage "dev": its functions would refuse these 3 settings at start.',
        `- UPSTASH_REDIS_REST_URL must be an http(s) URL ${ALL}`,
        `- UPSTASH_REDIS_REST_TOKEN must be set ${ALL}`,
        '- DISPATCH_TOKEN must be at least 16 characters (http)',
        SET('dev'),
        ...exported('UPSTASH_REDIS_REST_URL', 'UPSTASH_REDIS_REST_TOKEN', 'DISPATCH_TOKEN'),
        ALLOW,
      ].join('\n'),
    )
    expect(runs.wrong.stdout).not.toContain('short')
    expect(runs.wrong.stdout).not.toContain('example.upstash.io')
  })

  it('refuse a stage whose DISPATCH_KEYS, DISPATCH_TOKEN and DISPATCH_SIGNING_SECRET are all empty', () => {
    expect(runs.authEmpty.code, describeRun(runs.authEmpty)).toBe(1)
    expect(errorOf(runs.authEmpty)).toBe(
      [
        'Refusing to run `serverless package` for stage "dev": its functions would refuse this setting at start.',
        NO_CREDENTIALS,
        SET('dev'),
        ...exported('DISPATCH_KEYS', 'DISPATCH_TOKEN', 'DISPATCH_SIGNING_SECRET'),
        ALLOW,
      ].join('\n'),
    )
  })

  it('refuse a deploy the same way, before building or asking AWS anything', () => {
    const { deployEmpty } = runs
    expect(deployEmpty.code, describeRun(deployEmpty)).toBe(1)
    expect(errorOf(deployEmpty)).toBe(
      [
        'Refusing to run `serverless deploy` for stage "dev": its functions would refuse these 3 settings at start.',
        `- UPSTASH_REDIS_REST_URL must be set ${ALL}`,
        `- UPSTASH_REDIS_REST_TOKEN must be set ${ALL}`,
        NO_CREDENTIALS,
        SET('dev'),
        ...exported('UPSTASH_REDIS_REST_URL', 'UPSTASH_REDIS_REST_TOKEN', 'DISPATCH_KEYS', 'DISPATCH_TOKEN', 'DISPATCH_SIGNING_SECRET'),
        ALLOW,
      ].join('\n'),
    )
    expect({ built: deployEmpty.stderr.includes('Built the bundles'), networkAttempts: deployEmpty.networkAttempts }).toEqual({
      built: false,
      networkAttempts: [],
    })
  })

  it('check, for deploy function, only what that one function reads', () => {
    const { deploySqsEmpty } = runs
    expect(deploySqsEmpty.code, describeRun(deploySqsEmpty)).toBe(1)
    expect(errorOf(deploySqsEmpty)).toBe(
      [
        'Refusing to run `serverless deploy function` for stage "dev": its functions would refuse these 2 settings at start.',
        '- UPSTASH_REDIS_REST_URL must be set (sqs)',
        '- UPSTASH_REDIS_REST_TOKEN must be set (sqs)',
        SET('dev'),
        ...exported('UPSTASH_REDIS_REST_URL', 'UPSTASH_REDIS_REST_TOKEN'),
        ALLOW,
      ].join('\n'),
    )
    expect(deploySqsEmpty.networkAttempts).toEqual([])
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

  it('refuse a DISPATCH_KEYS the http function would refuse, naming the variable and the key, never a secret', () => {
    const env = { ...REDIS, DISPATCH_KEYS: JSON.stringify([{ name: 'notifier', token: 'notifier-token-0123456789', scopes: ['dispatch', 'backlog:write'] }]) }
    expect(checkFunctionSettings('http', env)?.problems).toEqual([
      {
        variable: 'DISPATCH_KEYS',
        problem: 'key "notifier": has an unknown scope "backlog:write" (known: dispatch, presence, backlog:read, backlog:clear)',
      },
    ])
  })

  it('refuse a wrong value even with MESA_ALLOW_EMPTY_SETTINGS=true, which lets only empty ones through', () => {
    const { allowedButWrong } = runs
    expect(allowedButWrong.code, describeRun(allowedButWrong)).toBe(1)
    expect(errorOf(allowedButWrong).split('\n').slice(0, 2)).toEqual([
      'Refusing to run `serverless package` for stage "dev": its functions would refuse this setting at start.',
      `- MESA_SYNC must be true or false ${ALL}`,
    ])
  })
})

describe('the check', () => {
  it('is the functions’ own code: the plugin loads checkFunctionSettings from src/function-settings.ts, rules and all', async () => {
    const env = { UPSTASH_REDIS_REST_URL: 'redis://example:6379', MESA_NAMESPACE: 'my app', MAX_BATCH: '1001', DISPATCH_TOKEN_PREVIOUS: 'x' }
    const problems = (await loadChecker())('http', env)?.problems
    expect(problems).toEqual(checkFunctionSettings('http', env)?.problems)
    expect(problems?.map((each) => each.variable)).toEqual([
      'UPSTASH_REDIS_REST_URL',
      'UPSTASH_REDIS_REST_TOKEN',
      'MESA_NAMESPACE',
      'DISPATCH_TOKEN_PREVIOUS',
      'MAX_BATCH',
    ])
  })

  it('finds each problem once, with every function that would refuse it, and knows which are mere empty values', () => {
    const problems = findProblems(
      [
        { name: 'http', environment: { ...REDIS, MESA_SYNC: 'maybe', DISPATCH_TOKEN: '', DISPATCH_SIGNING_SECRET: '' } },
        { name: 'sqs', environment: { ...REDIS, MESA_SYNC: 'maybe' } },
        { name: 'cleanup', environment: { ...REDIS, ...TOKEN } },
      ],
      checkFunctionSettings,
    )
    expect(problems).toEqual([
      { variable: 'MESA_SYNC', problem: 'must be true or false', functions: ['http', 'sqs'], empty: false },
      {
        variable: 'DISPATCH_KEYS, DISPATCH_TOKEN or DISPATCH_SIGNING_SECRET',
        problem: 'must be set: without a key, the http function refuses every request',
        functions: ['http'],
        empty: true,
      },
    ])
  })

  it('lets MESA_ALLOW_EMPTY_SETTINGS be true or false; any other value is refused', () => {
    expect([undefined, '', 'false', 'true'].map(isEmptyAllowed)).toEqual([false, false, false, true])
    expect(() => isEmptyAllowed('yes')).toThrow(new Error('MESA_ALLOW_EMPTY_SETTINGS must be true or false, not "yes"'))
  })
})

describe('the refusal for a stage that reads SSM', () => {
  // Stage prod's params resolve through SSM, which the offline tests cannot reach; the message is built from
  // serverless.yml as written, so it is checked here on the real file.
  it('names the SSM parameters of the stage’s params block, with the command that sets each', async () => {
    const raw = await readRawConfiguration(join(ROOT, 'serverless.yml'))
    const problems = findProblems(
      [
        {
          name: 'http',
          environment: { UPSTASH_REDIS_REST_URL: '', UPSTASH_REDIS_REST_TOKEN: 'x', DISPATCH_KEYS: '', DISPATCH_TOKEN: '', DISPATCH_SIGNING_SECRET: '' },
        },
      ],
      checkFunctionSettings,
    )

    expect(describeRefusal({ command: 'deploy', stage: 'prod', problems, raw })).toBe(
      [
        'Refusing to run `serverless deploy` for stage "prod": its functions would refuse these 2 settings at start.',
        '- UPSTASH_REDIS_REST_URL must be set (http)',
        NO_CREDENTIALS,
        SET('prod'),
        '  UPSTASH_REDIS_REST_URL: aws ssm put-parameter --type SecureString --name /mesa-dispatch/prod/upstash-url --value …',
        '  DISPATCH_KEYS: aws ssm put-parameter --type SecureString --name /mesa-dispatch/prod/dispatch-keys --value …',
        '  DISPATCH_TOKEN: aws ssm put-parameter --type SecureString --name /mesa-dispatch/prod/dispatch-token --value …',
        '  DISPATCH_SIGNING_SECRET: aws ssm put-parameter --type SecureString --name /mesa-dispatch/prod/dispatch-signing-secret --value …',
        ALLOW,
      ].join('\n'),
    )
  })
})
