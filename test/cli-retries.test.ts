import { describe, expect, it } from 'vitest'
import { serveFetch } from '../dev/serve-fetch'
import { useBuiltCli } from './support/built-cli'
import { useCleanup } from './support/cleanup'
import { ENDPOINT_TOKEN } from './support/dispatch-endpoint'
import { CLIENT_KEY } from './support/endpoint-failure'
import { GATEWAY_TOKEN, useStack } from './support/stack'

// `--retries N` of the built `mesa-dispatch` bin: how many requests a failing command sends, what it prints after
// the last, and the values it refuses. That a retry reaches every recipient once is test/retry-exactly-once.test.ts's.
const stack = useStack()
const open = useCleanup()
const { run } = useBuiltCli(stack)
const usageHint = 'Run mesa-dispatch --help for usage.\n'
const timedOut = {
  ok: false,
  error: { name: 'RedisUnavailableError', message: 'Redis did not answer in time: the request may have been applied', outcome: 'unknown' },
}

/** An endpoint whose Redis never answers in time: every request gets 503, outcome unknown, with `Retry-After: 0`. */
async function stalledEndpoint() {
  const keys: Array<string | null> = []
  const server = open(
    await serveFetch(async (request) => {
      keys.push(request.headers.get('idempotency-key'))
      return Response.json(timedOut, { status: 503, headers: { 'retry-after': '0' } })
    }),
  )
  return { url: server.url, keys }
}

describe('mesa-dispatch --retries', () => {
  it('sends a failing command once with 0, N + 1 times with N, each time with the same key, which it then prints as the --id to finish it', async () => {
    const endpoint = await stalledEndpoint()
    const send = (retries: string) => run(['send', '--endpoint', endpoint.url, '--token', ENDPOINT_TOKEN, '--data', '1', '--retries', retries])

    const once = await send('0')
    const four = await send('3')

    const advice = (attempts: string) =>
      new RegExp(
        `^mesa-dispatch: ${timedOut.error.message} \\(HTTP 503, retry after 0 s${attempts}\\)\\nIt may have been applied: run the same command again with --id ([0-9a-f-]{36}) to apply it at most once; no recipient gets it twice\\.\\n$`,
      )
    expect({ once, four }).toEqual({
      once: { code: 4, stdout: '', stderr: expect.stringMatching(advice('')) },
      four: { code: 4, stdout: '', stderr: expect.stringMatching(advice(', 4 attempts')) },
    })
    const [, onceKey] = advice('').exec(once.stderr)!
    const [, fourKey] = advice(', 4 attempts').exec(four.stderr)!
    expect(endpoint.keys).toEqual([onceKey, fourKey, fourKey, fourKey, fourKey])
  })

  it('puts the outcome, the attempts and the key in the --json error, and backlog clear retries as send does', async () => {
    const endpoint = await stalledEndpoint()
    const { code, stdout } = await run(['backlog', 'clear', 'a', '--endpoint', endpoint.url, '--token', ENDPOINT_TOKEN, '--retries', '1', '--json'])
    expect({ code, output: JSON.parse(stdout) }).toEqual({
      code: 4,
      output: {
        ok: false,
        error: {
          ...timedOut.error,
          status: 503,
          retryAfter: 0,
          attempts: 2,
          idempotencyKey: CLIENT_KEY,
          hint: expect.stringMatching(/^It may have been applied: run the same command again with --id /),
        },
      },
    })
    expect(endpoint.keys).toEqual([CLIENT_KEY, CLIENT_KEY])
  })

  it.each([
    ['a negative count', ['--retries=-1'], '--retries must be a whole number from 0 to 10, got "-1"'],
    ['a count over 10', ['--retries', '11'], '--retries must be a whole number from 0 to 10, got "11"'],
    ['a word', ['--retries', 'twice'], '--retries must be a whole number from 0 to 10, got "twice"'],
    ['--rest-url', ['--rest-url', 'http://127.0.0.1:1', '--rest-token', GATEWAY_TOKEN, '--retries', '1'], '--retries applies only with --endpoint'],
  ])('refuses %s', async (_, args, message) => {
    const endpoint = args.includes('--rest-url') ? [] : ['--endpoint', 'http://127.0.0.1:1', '--token', ENDPOINT_TOKEN]
    expect(await run(['send', '--data', '1', ...endpoint, ...args])).toEqual({ code: 2, stdout: '', stderr: `mesa-dispatch: ${message}\n${usageHint}` })
  })
})
