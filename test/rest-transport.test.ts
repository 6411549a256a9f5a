import type { IncomingMessage, ServerResponse } from 'node:http'
import { afterAll, describe, expect, it } from 'vitest'
import { RedisCommandError, RedisUnavailableError, type RestConnection } from '../src/index'
import { createRestRedis } from '../src/transport/rest'
import { freePort } from './support/ports'
import { GATEWAY_TOKEN as TOKEN, useStack } from './support/stack'

// The transport's timeouts and retries, against the real gateway with faults injected in front of it.
/** The faults the next requests meet, one per request, before the gateway handles them normally. */
const faults: Array<'500' | '502-html' | 'hang' | '400' | '307'> = []
const hung: ServerResponse[] = []

function inject(_req: IncomingMessage, res: ServerResponse): boolean {
  const fault = faults.shift()
  if (fault === undefined) return false
  if (fault === 'hang') hung.push(res)
  else if (fault === '502-html') res.writeHead(502, { 'content-type': 'text/html' }).end('<html>bad gateway</html>')
  // Back to the same gateway: a client that followed it would get its PONG from the second request.
  else if (fault === '307') res.writeHead(307, { location: stack.gateway.url }).end()
  else res.writeHead(Number(fault), { 'content-type': 'application/json' }).end(JSON.stringify({ error: `ERR injected ${fault}` }))
  return true
}

const stack = useStack({ intercept: inject })
afterAll(() => {
  for (const res of hung) res.destroy()
})

function client(overrides: Partial<RestConnection> = {}) {
  return createRestRedis({ url: stack.gateway.url, token: TOKEN, timeoutMs: 300, retries: 2, backoffMs: 1, ...overrides })
}

/** Runs one PING with the given faults queued, and reports what happened and how many requests it took. */
async function ping(queued: typeof faults, overrides?: Partial<RestConnection>) {
  faults.splice(0, faults.length, ...queued)
  const before = stack.gateway.requests
  const outcome = await client(overrides)
    .ping()
    .then(
      (result) => ({ result }),
      (error: Error & { status?: number }) => ({ error: error.name, status: error.status, message: error.message }),
    )
  faults.length = 0
  return { ...outcome, requests: stack.gateway.requests - before }
}

describe('the REST transport', () => {
  it('retries 5xx answers and succeeds when the endpoint recovers', async () => {
    expect(await ping(['500', '502-html'])).toEqual({ result: 'PONG', requests: 3 })
  })

  it('gives up after its retries with a RedisUnavailableError carrying the last status', async () => {
    expect(await ping(['500', '500', '502-html'])).toEqual({
      error: 'RedisUnavailableError',
      status: 502,
      message: `Redis REST endpoint ${stack.gateway.url} answered 502`,
      requests: 3,
    })
  })

  it('never retries a 4xx answer', async () => {
    expect(await ping(['400'])).toEqual({
      error: 'RedisCommandError',
      status: 400,
      message: `Redis REST endpoint ${stack.gateway.url} answered 400: ERR injected 400`,
      requests: 1,
    })
  })

  it('times out a hanging attempt and retries it', async () => {
    expect(await ping(['hang', 'hang'])).toEqual({ result: 'PONG', requests: 3 })
  })

  it('says the endpoint timed out when every attempt hangs', async () => {
    expect(await ping(['hang', 'hang'], { retries: 1 })).toEqual({
      error: 'RedisUnavailableError',
      status: undefined,
      message: `Redis REST request to ${stack.gateway.url} failed: timed out`,
      requests: 2,
    })
  })

  it('does not follow a redirect, which no Upstash endpoint sends, but refuses it in one request without retrying it', async () => {
    expect(await ping(['307'])).toEqual({
      error: 'RedisUnavailableError',
      status: 307,
      message: `Redis REST endpoint ${stack.gateway.url} answered 307 with a body that is not JSON`,
      requests: 1,
    })
  })

  it('sends nothing once the deadline has passed', async () => {
    expect(await ping([], { deadline: () => Date.now() - 1 })).toEqual({
      error: 'RedisUnavailableError',
      status: undefined,
      message: 'no time left before the deadline to reach Redis',
      requests: 0,
    })
  })

  it('reports a refused token without echoing it', async () => {
    const outcome = await ping([], { token: 'wrong-secret' })
    // Its own class, a RedisCommandError still, so that a log, a metric and the CLI say the token was refused.
    expect(outcome).toEqual({
      error: 'RedisTokenRefusedError',
      status: 401,
      message: `Redis REST endpoint ${stack.gateway.url} refused the REST token (HTTP 401)`,
      requests: 1,
    })
  })

  it('names a network failure by its code', async () => {
    const port = await freePort()
    const failure = await createRestRedis({ url: `http://127.0.0.1:${port}/some/path?key=never-shown`, token: TOKEN, retries: 0 })
      .ping()
      .catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(RedisUnavailableError)
    // And the host by its origin, which holds no path, query or credentials.
    expect((failure as Error).message).toBe(`Redis REST request to http://127.0.0.1:${port} failed: ECONNREFUSED`)
  })

  it('sends a command alone as one plain request, and an explicit pipeline as one request', async () => {
    const redisClient = client()
    const before = stack.gateway.requests
    const alone = await redisClient.set('k', 'v')
    const afterOne = stack.gateway.requests
    const piped = await redisClient.pipeline().set('k', 'v').incr('n').incr('n').exec()
    expect({ alone, piped, requests: [afterOne - before, stack.gateway.requests - afterOne] }).toEqual({
      alone: 'OK',
      piped: ['OK', 1, 2],
      requests: [1, 1],
    })
  })

  it('rejects a 4xx as a RedisCommandError even when the status is 401 on a pipeline', async () => {
    const failure = await createRestRedis({ url: stack.gateway.url, token: 'nope' })
      .pipeline()
      .set('a', 'b')
      .exec()
      .catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(RedisCommandError)
  })
})
