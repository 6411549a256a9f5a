import { describe, expect, it } from 'vitest'
import { createWarmPath, runWarmPath } from '../src/http/warm-path'
import { createLogger } from '../src/observe/logger'
import { useStack } from './support/stack'

// The second request path a provisioned init of the http function runs once (src/http/warm-path.ts): the same code as
// the function's own, on settings from the same env, and nothing of it reaches Redis.
const stack = useStack()

describe('the warm-up path of the http function', () => {
  it("answers its dispatch 200 through the app, the Dispatcher and @upstash/redis's command, the script call answered in the process", async () => {
    const namespace = stack.freshNamespace()
    const warm = createWarmPath({ ...stack.functionEnv(namespace), DISPATCH_TOKEN: 'dispatch-token-0123456789' })!
    let response: Response | undefined
    const requests = await stack.requestsDuring(async () => {
      response = await warm.app.fetch(new Request('https://warm-up.invalid/dispatch', { method: 'POST', ...warm.request }))
    })

    expect({ status: response?.status, body: await response?.json(), calls: warm.calls(), requests, keys: await stack.admin.keys(`*${namespace}*`) }).toEqual({
      status: 200,
      body: {
        ok: true,
        result: { servers: 0, recipients: ['*'], online: [], offline: [], unstored: [], stored: 0, dropped: 0, duplicate: false, excludingIgnored: false },
      },
      calls: 1,
      requests: 0,
      keys: [],
    })
  })

  it('refuses the function its own token: the warm-up key is one no request can know', async () => {
    const warm = createWarmPath({ ...stack.functionEnv(stack.freshNamespace()), DISPATCH_TOKEN: 'dispatch-token-0123456789' })!
    const response = await warm.app.fetch(
      new Request('https://warm-up.invalid/dispatch', {
        method: 'POST',
        body: warm.request.body,
        headers: { authorization: 'Bearer dispatch-token-0123456789' },
      }),
    )

    expect({ status: response.status, calls: warm.calls() }).toEqual({ status: 401, calls: 0 })
  })

  it('is not built on settings the function would refuse, which its own app reports', () => {
    expect(createWarmPath({ ...stack.functionEnv(stack.freshNamespace()), UPSTASH_REDIS_REST_URL: 'not a url' })).toBeUndefined()
  })

  it('never fails the init: a warm-up that throws is logged once, as a warning', async () => {
    const lines: string[] = []
    const failing = async () => {
      throw new TypeError('a bug of ours')
    }

    await runWarmPath(
      { ...stack.functionEnv(stack.freshNamespace()), DISPATCH_TOKEN: 'dispatch-token-0123456789' },
      failing,
      createLogger({}, (line) => lines.push(line)),
    )

    expect(lines.map((line) => JSON.parse(line))).toEqual([
      {
        level: 'warn',
        time: expect.any(String),
        message: 'warm-up of the request path failed: the first request runs it for the first time',
        error: 'TypeError',
        detail: 'a bug of ours',
        outcome: 'unknown',
      },
    ])
  })
})
