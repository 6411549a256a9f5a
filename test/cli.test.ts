import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { useBuiltCli } from './support/built-cli'
import { useCleanup } from './support/cleanup'
import { ENDPOINT_SECRET, ENDPOINT_TOKEN, HOOKS_KEY } from './support/dispatch-endpoint'
import { CLIENT_KEY } from './support/endpoint-failure'
import { connectMesaClient } from './support/mesa-client'
import { freePort } from './support/ports'
import { runCommand } from './support/processes'
import { ROOT } from './support/serverless-cli'
import { GATEWAY_TOKEN, useStack } from './support/stack'
import { listenTcp } from './support/tcp-server'

// The built `mesa-dispatch` bin, run as `npx mesa-dispatch` runs it: a fresh node process on the bundle the package
// ships as lib/cli/index.js (built here into a temp dir).
const stack = useStack()
const open = useCleanup()
const cli = useBuiltCli(stack)
const { run } = cli

const viaToken = () => ['--endpoint', cli.endpoint.url, '--token', ENDPOINT_TOKEN]
const statusUpdate = ['--type', 'STATUS_UPDATE', '--data', '{"status":"online"}']
const usageHint = 'Run mesa-dispatch --help for usage.\n'

describe('mesa-dispatch', () => {
  it('sends through the endpoint with a token, and the Mesa client gets the exact frame', async () => {
    const zero = open(await connectMesaClient(cli.mesa.url, '0'))

    expect(await run(['send', ...viaToken(), ...statusUpdate, '--to', '0,offline-token'])).toEqual({
      code: 0,
      stdout: 'sent to 1 server(s): online 0; stored for 1 offline\n',
      stderr: '',
    })
    await zero.waitForMessages(1)
    expect(zero.raw).toEqual(['{"op":0,"d":{"status":"online"},"t":"STATUS_UPDATE"}'])
  })

  it('signs with --secret, and takes the endpoint and credentials from the env as well', async () => {
    const zero = open(await connectMesaClient(cli.mesa.url, '0'))
    const note = ['--type', 'NOTE', '--to', '0,1', '--exclude', '1']

    const flags = await run(['send', '--endpoint', cli.endpoint.url, '--secret', ENDPOINT_SECRET, ...note, '--data', '1'])
    const env = await run(['send', ...note, '--data', '2'], { MESA_DISPATCH_ENDPOINT: cli.endpoint.url, DISPATCH_SIGNING_SECRET: ENDPOINT_SECRET })

    expect([flags, env]).toEqual([0, 1].map(() => ({ code: 0, stdout: 'sent to 1 server(s): online 0\n', stderr: '' })))
    expect(await zero.waitForMessages(2)).toEqual([
      { op: 0, d: 1, t: 'NOTE' },
      { op: 0, d: 2, t: 'NOTE' },
    ])
  })

  it("signs as the key --key-id (or DISPATCH_KEY_ID) names, held to that key's scopes", async () => {
    const zero = open(await connectMesaClient(cli.mesa.url, '0'))
    const hooks = ['--endpoint', cli.endpoint.url, '--secret', HOOKS_KEY.signingSecret!]
    const flag = await run(['send', ...hooks, '--key-id', 'hooks', '--type', 'NOTE', '--to', '0', '--data', '3'])
    const env = await run(['send', ...hooks, '--type', 'NOTE', '--to', '0', '--data', '4'], { DISPATCH_KEY_ID: 'hooks' })
    const forbidden = await run(['presence', '0', ...hooks, '--key-id', 'hooks'])
    expect([flag, env, forbidden]).toEqual([
      { code: 0, stdout: 'sent to 1 server(s): online 0\n', stderr: '' },
      { code: 0, stdout: 'sent to 1 server(s): online 0\n', stderr: '' },
      { code: 3, stdout: '', stderr: 'mesa-dispatch: key "hooks" lacks the scope presence (HTTP 403)\n' },
    ])
    expect(await zero.waitForMessages(2)).toEqual([
      { op: 0, d: 3, t: 'NOTE' },
      { op: 0, d: 4, t: 'NOTE' },
    ])
  })

  it('says why a dispatch reached 0 servers: no Mesa server is subscribed to ws_<namespace>, the namespace named', async () => {
    const rest = ['--rest-url', stack.gateway.url, '--rest-token', GATEWAY_TOKEN, '--namespace', 'nobody-listens']

    expect(await run(['send', ...rest, '--to', '0', '--data', '{}'])).toEqual({
      code: 0,
      stdout: 'sent to 0 server(s): recipients 0\n',
      stderr:
        'no Mesa server is subscribed to ws_nobody-listens on that Redis: check that the Mesa servers use the namespace "nobody-listens" (--namespace or MESA_NAMESPACE) and this Redis\n',
    })
    // --json keeps stdout one document, and its result already says servers: 0.
    expect(JSON.parse((await run(['send', ...rest, '--to', '0', '--data', '{}', '--json'])).stdout)).toMatchObject({ servers: 0 })
  })

  it('sends straight to Redis with --rest-url, in the namespace and with sync, storing for the offline', async () => {
    const zero = open(await connectMesaClient(cli.mesa.url, '0'))
    const rest = ['--rest-url', stack.gateway.url, '--rest-token', GATEWAY_TOKEN, '--namespace', cli.namespace, '--sync']

    expect(await run(['send', ...rest, '--type', 'NOTE', '--data', '{"n":3}', '--to', '0,offline-rest'])).toEqual({
      code: 0,
      stdout: 'sent to 1 server(s): online 0; stored for 1 offline\n',
      stderr: '',
    })
    expect(await zero.waitForMessages(1)).toEqual([{ op: 0, d: { n: 3 }, t: 'NOTE' }])
    expect(await stack.admin.hget(`undelivered_messages_${cli.namespace}`, 'offline-rest')).toBe('[{"op":0,"d":{"n":3},"t":"NOTE"}]')
  })

  it('sends all-digit ids as numbers with --numeric-ids, for clients that logged in with a number', async () => {
    const seven = open(await connectMesaClient(cli.mesa.url, 7))

    expect(await run(['send', ...viaToken(), '--data', '"hi"', '--to', '7', '--numeric-ids'])).toEqual({
      code: 0,
      stdout: 'sent to 1 server(s): online 7\n',
      stderr: '',
    })
    expect(await seven.waitForMessages(1)).toEqual([{ op: 0, d: 'hi' }])
  })

  it("closes a client's socket with disconnect", async () => {
    const zero = open(await connectMesaClient(cli.mesa.url, '0'))

    expect(await run(['disconnect', '0', ...viaToken()])).toEqual({ code: 0, stdout: 'sent to 1 server(s): recipients 0\n', stderr: '' })
    expect(await zero.closed).toEqual({ code: 1000 })
  })

  it('prints the whole result as JSON with --json', async () => {
    const zero = open(await connectMesaClient(cli.mesa.url, '0'))

    const { code, stdout, stderr } = await run(['send', ...viaToken(), ...statusUpdate, '--to', '0,offline-json', '--json'])

    expect({ code, result: JSON.parse(stdout) as unknown, stderr }).toEqual({
      code: 0,
      result: {
        servers: 1,
        recipients: ['0'],
        online: ['0'],
        offline: ['offline-json'],
        unstored: [],
        stored: 1,
        dropped: 0,
        duplicate: false,
        excludingIgnored: false,
      },
      stderr: '',
    })
    expect(await zero.waitForMessages(1)).toEqual([{ op: 0, d: { status: 'online' }, t: 'STATUS_UPDATE' }])
  })

  it('exits 2 when --data is not JSON', async () => {
    expect(await run(['send', ...viaToken(), '--data', '{oops'])).toEqual({
      code: 2,
      stdout: '',
      stderr: expect.stringMatching(/^mesa-dispatch: --data must be JSON \(quote strings: --data '"hi"'\): .+\nRun mesa-dispatch --help for usage\.\n$/),
    })
  })

  it('exits 2 when no transport is chosen, saying which flags to pass', async () => {
    expect(await run(['send', '--data', '1'])).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'mesa-dispatch: choose a transport: --endpoint URL with --token T or --secret S, or --rest-url URL with --rest-token T ' +
        `(or set MESA_DISPATCH_ENDPOINT or UPSTASH_REDIS_REST_URL)\n${usageHint}`,
    })
  })

  it('exits 2 on a 400 from the endpoint, and --json names the field', async () => {
    // The body's own id keys the call, so the client adds no Idempotency-Key of its own.
    const error = {
      name: 'ValidationError',
      message: 'id must be a non-empty string of at most 256 characters',
      status: 400,
      field: 'id',
      outcome: 'none',
      attempts: 1,
    }
    expect(await run(['send', ...viaToken(), '--data', '1', '--id', 'i'.repeat(257), '--json'])).toEqual({
      code: 2,
      stdout: `${JSON.stringify({ ok: false, error })}\n`,
      stderr: '',
    })
  })

  it('exits 3 when the endpoint refuses the token, and when Redis refuses the REST token', async () => {
    const endpointRefusal = await run(['send', '--endpoint', cli.endpoint.url, '--token', 'not-the-token', '--data', '1'])
    const redisRefusal = await run(['send', '--rest-url', stack.gateway.url, '--rest-token', 'not-the-rest-token', '--data', '1'])

    expect([endpointRefusal, redisRefusal]).toEqual([
      { code: 3, stdout: '', stderr: 'mesa-dispatch: the bearer token is missing or wrong (HTTP 401)\n' },
      { code: 3, stdout: '', stderr: `mesa-dispatch: Redis REST endpoint ${stack.gateway.url} refused the REST token (HTTP 401)\n` },
    ])
  })

  it('names the class of a refused REST token in --json: the token was refused, not a command', async () => {
    const { stdout } = await run(['send', '--rest-url', stack.gateway.url, '--rest-token', 'not-the-rest-token', '--data', '1', '--json'])
    expect(JSON.parse(stdout)).toEqual({
      ok: false,
      error: { name: 'RedisTokenRefusedError', message: `Redis REST endpoint ${stack.gateway.url} refused the REST token (HTTP 401)` },
    })
  })

  it('suggests --endpoint when --rest-url points at the dispatch endpoint, and names --rest-url when it is not http(s)', async () => {
    const rest = ['--rest-token', GATEWAY_TOKEN, '--data', '1']
    const atEndpoint = await run(['send', '--rest-url', cli.endpoint.url, ...rest])
    const redisUrl = await run(['send', '--rest-url', 'redis://default:hunter2@127.0.0.1:6379', ...rest])
    const fromEnv = await run(['send', ...rest], { UPSTASH_REDIS_REST_URL: 'rediss://example:6380' })

    expect([atEndpoint, redisUrl, fromEnv]).toEqual([
      {
        code: 1,
        stdout: '',
        stderr:
          `mesa-dispatch: Redis REST endpoint ${cli.endpoint.url} answered 404: an error\n` +
          '--rest-url is the Upstash REST URL of the Redis the Mesa servers use (UPSTASH_REDIS_REST_URL); for the dispatch endpoint, pass its base URL as --endpoint, with --token or --secret.\n',
      },
      { code: 2, stdout: '', stderr: `mesa-dispatch: --rest-url must be an http(s) URL, the Upstash REST URL (not redis://)\n${usageHint}` },
      { code: 2, stdout: '', stderr: `mesa-dispatch: UPSTASH_REDIS_REST_URL must be an http(s) URL, the Upstash REST URL (not redis://)\n${usageHint}` },
    ])
  })

  it('exits 4 saying the connection was refused when nothing listens at the endpoint', async () => {
    const down = `http://127.0.0.1:${await freePort()}`
    expect(await run(['send', '--endpoint', down, '--token', ENDPOINT_TOKEN, '--data', '1'])).toEqual({
      code: 4,
      stdout: '',
      stderr: `mesa-dispatch: the dispatch endpoint at ${down} refused the connection (ECONNREFUSED): nothing listens on that port (3 attempts)\n`,
    })
  })

  it('exits 4 saying no answer came within --timeout when the endpoint, or the REST URL, accepts and stays silent', async () => {
    const silent = open(await listenTcp(() => undefined))

    const viaEndpoint = await run(['send', '--endpoint', silent.url, '--token', ENDPOINT_TOKEN, '--data', '1', '--timeout', '300'])
    const viaRest = await run(['send', '--rest-url', silent.url, '--rest-token', GATEWAY_TOKEN, '--data', '1', '--timeout', '100'])

    const advice = 'It may have been applied: run the same command again with --id (?<key>[0-9a-f-]{36}) to apply it at most once; no recipient gets it twice.'
    expect([viaEndpoint, viaRest]).toEqual([
      {
        code: 4,
        stdout: '',
        stderr: expect.stringMatching(
          new RegExp(`^mesa-dispatch: the dispatch endpoint at ${silent.url} did not answer within 300 ms \\(3 attempts\\)\n${advice}\n$`),
        ),
      },
      { code: 4, stdout: '', stderr: `mesa-dispatch: Redis REST request to ${silent.url} failed: timed out\n` },
    ])
  })

  it('exits 1 on a 404, saying --endpoint is the base URL and which URL answered 404, in text and in JSON', async () => {
    const args = ['send', '--endpoint', `${cli.endpoint.url}/api/`, '--token', ENDPOINT_TOKEN, '--data', '1']
    const hint = '--endpoint is that base URL, as serverless deploy prints it (the CLI adds the route).'
    const message = `no such route: ${cli.endpoint.url}/api/dispatch answered 404; endpoint is the base URL of /dispatch and /health`

    expect(await run(args)).toEqual({ code: 1, stdout: '', stderr: `mesa-dispatch: ${message} (HTTP 404)\n${hint}\n` })
    const { code, stdout, stderr } = await run([...args, '--json'])
    expect({ code, output: JSON.parse(stdout), stderr }).toEqual({
      code: 1,
      stderr: '',
      output: {
        ok: false,
        error: { name: 'NotFound', message, status: 404, outcome: 'none', attempts: 1, idempotencyKey: CLIENT_KEY, hint },
      },
    })
  })

  it('takes the route URL .../dispatch as --endpoint as well, as a ready line prints it', async () => {
    const zero = open(await connectMesaClient(cli.mesa.url, '0'))

    expect(await run(['send', '--endpoint', `${cli.endpoint.url}/dispatch`, '--token', ENDPOINT_TOKEN, '--data', '"route"', '--to', '0'])).toEqual({
      code: 0,
      stdout: 'sent to 1 server(s): online 0\n',
      stderr: '',
    })
    expect(await zero.waitForMessages(1)).toEqual([{ op: 0, d: 'route' }])
  })

  it.each([
    [['send', '--tokn', ENDPOINT_TOKEN, '--data', '1'], 'unknown option --tokn; did you mean --token?'],
    [['send', '--ednpoint', 'http://127.0.0.1:1', '--data', '1'], 'unknown option --ednpoint; did you mean --endpoint?'],
    [['send', '--Data', '1'], 'unknown option --Data; did you mean --data?'],
    [['-version'], 'unknown option -version; did you mean --version?'],
    [['send', '--rest', 'https://x.upstash.io'], 'unknown option --rest; did you mean --rest-url or --rest-token?'],
    [['send', '--frobnicate', '--data', '1'], 'unknown option --frobnicate'],
    [['send', '-x'], 'unknown option -x'],
    [['send', '--data', '1', '--endpoint'], '--endpoint needs a value'],
    [
      ['send', '--endpoint', '--token', ENDPOINT_TOKEN],
      '--endpoint needs a value, and --token looks like an option (write --endpoint=--token if it is the value)',
    ],
    [['send', '--json=yes', '--data', '1'], '--json takes no value, got --json=yes'],
    [
      ['send', '--endpoint', 'http://127.0.0.1:1', '--token', ENDPOINT_TOKEN, '--key-id', 'hooks', '--data', '1'],
      '--key-id names the key a --secret signs as; a --token names its key itself',
    ],
    [['send', '--rest-url', 'https://x.upstash.io', '--rest-token', 'T', '--key-id', 'hooks', '--data', '1'], '--key-id applies only with --endpoint'],
    [
      ['send', '--endpoint', 'http://127.0.0.1:1', '--token', ENDPOINT_TOKEN, '--data', '1', '--timeout', '5s'],
      '--timeout must be a whole number of milliseconds from 1 to 2147483647, got "5s"',
    ],
  ])('exits 2 on %j, saying in its own words: %s', async (args, message) => {
    expect(await run(args)).toEqual({ code: 2, stdout: '', stderr: `mesa-dispatch: ${message}\n${usageHint}` })
  })

  it('reports a bad flag as JSON with --json, and lets --help win over it', async () => {
    const [json, help, usage] = await Promise.all([run(['send', '--tokn', 'T', '--json']), run(['send', '--tokn', 'T', '--help']), run(['--help'])])

    expect(json).toEqual({
      code: 2,
      stdout: `${JSON.stringify({ ok: false, error: { name: 'UsageError', message: 'unknown option --tokn; did you mean --token?' } })}\n`,
      stderr: '',
    })
    expect(help).toEqual(usage)
  })

  it("prints package.json's version on --version, from the built bin and from the sources through tsx", async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }

    const [built, source] = await Promise.all([run(['--version']), runCommand('npm', ['run', '--silent', 'cli', '--', '--version'])])

    expect([built, source]).toEqual([0, 1].map(() => ({ code: 0, stdout: `${version}\n`, stderr: '' })))
  })

  it('prints the usage with an example for each transport on --help, -h and no arguments, and exits 0', async () => {
    const [help, short, bare] = await Promise.all([run(['--help']), run(['-h']), run([])])

    expect(short).toEqual(help)
    expect(bare).toEqual(help)
    expect(help.code).toBe(0)
    expect(help.stdout).toContain(
      'mesa-dispatch send --endpoint https://abc.execute-api.eu-west-1.amazonaws.com --token "$DISPATCH_TOKEN" \\\n' +
        `    --type STATUS_UPDATE --data '{"status":"online"}' --to 0,1 --exclude 1`,
    )
    expect(help.stdout).toContain('mesa-dispatch send --rest-url "$UPSTASH_REDIS_REST_URL" --rest-token "$UPSTASH_REDIS_REST_TOKEN" --namespace api --sync')
  })
})
