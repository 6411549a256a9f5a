import { describe, expect, it } from 'vitest'
import type { GatewayIntercept } from '../dev/upstash-gateway'
import { signRequest } from '../src/client/index'
import { createMesaKeys } from '../src/core/keys'
import { type AppOptions, createApp, createAppFromEnv } from '../src/http/app'
import { Dispatcher, type DispatchResult } from '../src/index'
import { outcomeOf } from '../src/observe/dispatch-metrics'
import { createLogger } from '../src/observe/logger'
import { freePort } from './support/ports'
import { GATEWAY_TOKEN, useStack } from './support/stack'

// The fetch app's own decisions: what it refuses, what it logs, and how Redis failures become statuses.
// A fault the gateway applies to the requests it receives while set: true when it answered the request itself.
let fault: GatewayIntercept | undefined
const stack = useStack({ intercept: (req, res) => fault?.(req, res) ?? false })
const TOKEN = 'app-test-dispatch-token'
const SIGNING_SECRET = 'app-test-signing-secret'
const SECRET_DATA = 'very-private-message-content'

function captured() {
  const lines: Record<string, unknown>[] = []
  return { lines, logger: createLogger({}, (line) => lines.push(JSON.parse(line) as Record<string, unknown>)) }
}
const dispatchCall = (body: unknown, headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }, text = JSON.stringify(body)) =>
  new Request('https://dispatch.example.com/dispatch', { method: 'POST', headers, body: text })
const secretNote = { message: { d: { text: SECRET_DATA }, t: 'NOTE' }, recipients: ['someone'] }

async function answer(app: { fetch(request: Request): Promise<Response> }, request: Request) {
  const response = await app.fetch(request)
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body: await response.json() }
}

describe('the app', () => {
  it('refuses every dispatch when no secret is configured, says so on /health, and logs what to set', async () => {
    const { lines, logger } = captured()
    const app = createApp({ dispatcher: stack.dispatcher(), auth: {}, logger })
    expect([await answer(app, dispatchCall(secretNote)), await answer(app, new Request('https://x/health'))]).toEqual([
      {
        status: 401,
        retryAfter: null,
        body: { ok: false, error: { name: 'AuthenticationError', message: 'this endpoint has no credentials configured', outcome: 'none' } },
      },
      {
        status: 503,
        retryAfter: null,
        body: {
          ok: false,
          error: {
            name: 'ConfigError',
            message: 'no credentials are configured: set DISPATCH_KEYS, DISPATCH_TOKEN or DISPATCH_SIGNING_SECRET (16+ characters)',
            outcome: 'none',
          },
        },
      },
    ])
    expect(lines[0]).toMatchObject({
      level: 'error',
      message: 'refusing every dispatch: set DISPATCH_KEYS, DISPATCH_TOKEN or DISPATCH_SIGNING_SECRET (16+ characters)',
    })
  })

  it('answers 503 to everything when misconfigured, and logs the variable but not the secrets', async () => {
    const { lines, logger } = captured()
    const app = createAppFromEnv({ UPSTASH_REDIS_REST_TOKEN: 'redis-rest-secret', DISPATCH_TOKEN: TOKEN }, { logger })
    const expected = {
      status: 503,
      retryAfter: null,
      body: { ok: false, error: { name: 'ConfigError', message: 'the dispatch endpoint is misconfigured', outcome: 'none' } },
    }
    expect([await answer(app, dispatchCall(secretNote)), await answer(app, new Request('https://x/health'))]).toEqual([expected, expected])
    expect(lines).toEqual([expect.objectContaining({ level: 'error', variable: 'UPSTASH_REDIS_REST_URL' })])
    expect(JSON.stringify(lines)).not.toMatch(/redis-rest-secret|app-test-dispatch-token/)
  })

  it('answers 503 with Retry-After when Redis is unreachable', async () => {
    const dispatcher = new Dispatcher({ url: `http://127.0.0.1:${await freePort()}`, token: 't', retries: 0 })
    const app = createApp({ dispatcher, auth: { token: TOKEN }, logger: captured().logger })
    expect(await answer(app, dispatchCall(secretNote))).toEqual({
      status: 503,
      retryAfter: '5',
      body: {
        ok: false,
        error: {
          name: 'RedisUnavailableError',
          message: 'the dispatch endpoint cannot reach Redis right now; nothing was applied; retry later',
          outcome: 'none',
        },
      },
    })
  })

  it('answers a batch whose every item failed as one dispatch would, with Retry-After and each item in the body', async () => {
    const { lines, logger } = captured()
    const port = await freePort()
    const dispatcher = new Dispatcher({ url: `http://127.0.0.1:${port}`, token: 't', retries: 0 })
    const app = createApp({ dispatcher, auth: { token: TOKEN }, logger })
    const unreachable = {
      ok: false,
      error: {
        name: 'RedisUnavailableError',
        message: 'the dispatch endpoint cannot reach Redis right now; nothing was applied; retry later',
        outcome: 'none',
      },
    }
    expect(await answer(app, dispatchCall({ dispatches: [secretNote, { event: 'DISCONNECT_CLIENT' }] }))).toEqual({
      status: 503,
      retryAfter: '5',
      body: { ok: false, results: [unreachable, unreachable] },
    })
    // The answer does not say why; the log line does, down to the refused connection.
    expect(lines.find((line) => line.message === 'dispatch')).toEqual({
      level: 'error',
      time: expect.any(String),
      message: 'dispatch',
      requestId: expect.any(String),
      key: 'default',
      result: 'failed',
      batch: true,
      dispatches: 2,
      failed: 2,
      errors: 'RedisUnavailableError',
      error: 'RedisUnavailableError',
      detail: `Redis REST request to http://127.0.0.1:${port} failed: ECONNREFUSED`,
      outcome: 'none',
      cause: {
        name: 'TypeError',
        message: 'fetch failed',
        cause: { name: 'Error', code: 'ECONNREFUSED', message: `connect ECONNREFUSED 127.0.0.1:${port}` },
      },
      durationMs: expect.any(Number),
    })
  })

  it('answers 502 when Redis refuses the script, for one dispatch or a whole batch, and 207 when only part of a batch fails', async () => {
    const namespace = stack.freshNamespace()
    await stack.admin.set(`connected_clients_${namespace}`, 'not a set')
    const options: AppOptions = { dispatcher: stack.dispatcher({ namespace, sync: { enabled: true } }), auth: { token: TOKEN }, logger: captured().logger }
    const app = createApp(options)
    const refusedBody = { name: 'RedisCommandError', message: 'Redis refused the request; nothing was applied', outcome: 'none' }
    expect(await answer(app, dispatchCall(secretNote))).toEqual({ status: 502, retryAfter: null, body: { ok: false, error: refusedBody } })
    expect(await answer(app, dispatchCall({ dispatches: [secretNote, secretNote] }))).toEqual({
      status: 502,
      retryAfter: null,
      body: {
        ok: false,
        results: [
          { ok: false, error: refusedBody },
          { ok: false, error: refusedBody },
        ],
      },
    })
    expect(await answer(app, dispatchCall({ dispatches: [secretNote, { event: 'DISCONNECT_CLIENT', recipients: ['x'] }] }))).toEqual({
      status: 207,
      retryAfter: null,
      body: {
        ok: false,
        results: [
          { ok: false, error: refusedBody },
          {
            ok: true,
            result: {
              servers: 0,
              recipients: ['x'],
              online: null,
              offline: [],
              unstored: [],
              stored: 0,
              dropped: 0,
              duplicate: false,
              excludingIgnored: false,
            },
          },
        ],
      },
    })
  })

  it('answers 413 naming MAX_REQUEST_BYTES for a dispatch whose Redis request would be too big, having sent nothing', async () => {
    const env = { ...stack.functionEnv(stack.freshNamespace()), DISPATCH_TOKEN: TOKEN, MAX_REQUEST_BYTES: '65536' }
    const app = createAppFromEnv(env, { logger: captured().logger })
    let reply: Awaited<ReturnType<typeof answer>> | undefined
    const big = { message: { d: { text: 'x'.repeat(60_000) }, t: 'NOTE' }, recipients: ['someone'] }
    expect(await stack.requestsDuring(async () => (reply = await answer(app, dispatchCall(big))))).toBe(0)
    expect(reply).toEqual({
      status: 413,
      retryAfter: null,
      body: {
        ok: false,
        error: {
          name: 'PayloadTooLargeError',
          message: expect.stringMatching(
            /^the dispatch needs a Redis request of \d{5} bytes, over MAX_REQUEST_BYTES \(65536\): send a smaller message or fewer recipients$/,
          ),
          outcome: 'none',
        },
      },
    })
  })

  it('answers a dispatch Redis failed between its parts with that failure, what was reached and how to finish it, not "nothing was applied"', async () => {
    const namespace = stack.freshNamespace()
    const dispatcher = stack.dispatcher({ namespace, sync: { enabled: true, maxBytes: 20_000 }, maxWriteBytes: 40_000 })
    const ids = ['a', 'b', 'c', 'd']
    for (const id of ids) await dispatcher.dispatch(new (await import('../src/index')).Message(0, 'x'.repeat(18_000)), [id])
    const app = createApp({ dispatcher, auth: { token: TOKEN }, logger: captured().logger })
    // The first part passes; the gateway answers every later request 503, having forwarded nothing.
    let passed = 0
    fault = (_req, res) => {
      if (++passed <= 1) return false
      res.writeHead(503).end()
      return true
    }
    const failed = await answer(app, dispatchCall({ message: { d: 1, t: 'NOTE' }, recipients: ids, id: 'order' })).finally(() => (fault = undefined))

    expect(failed).toEqual({
      status: 503,
      retryAfter: '5',
      body: {
        ok: false,
        error: {
          name: 'IncompleteDispatchError',
          message:
            'Redis failed after part of the dispatch was applied: 2 recipients were reached, 2 may not have been; send it again with the same id or Idempotency-Key to finish it: no recipient gets it twice',
          outcome: 'partial',
        },
      },
    })
  })

  it('gives each item of a signed batch without ids the id sig:<lower-case signature>:<index>, remembered for the signature window', async () => {
    const namespace = stack.freshNamespace()
    const app = createApp({ dispatcher: stack.dispatcher({ namespace }), auth: { signingSecret: SIGNING_SECRET }, logger: captured().logger })
    const body = JSON.stringify({ dispatches: [secretNote, { event: 'DISCONNECT_CLIENT', recipients: ['x'] }] })
    const [head, hex] = (await signRequest(SIGNING_SECRET, { keyId: 'default', method: 'POST', path: '/dispatch', body })).split(',v2=') as [string, string]
    // Sent upper-case, as a sender may: the id is the same whatever the case of its hex digits.
    const send = () => answer(app, dispatchCall(undefined, { 'x-mesa-signature': `${head},v2=${hex.toUpperCase()}` }, body))
    const [first, second] = [await send(), await send()]
    const keys = (await stack.admin.keys(`mesa_dispatch_id:dispatch:*:${namespace}:sig:*`)).sort()
    const ttls = await Promise.all(keys.map((key) => stack.admin.ttl(key)))
    expect({
      statuses: [first.status, second.status],
      duplicates: second.body.results.map((each: { result: DispatchResult }) => each.result.duplicate),
      keys,
    }).toEqual({
      statuses: [200, 200],
      duplicates: [true, true],
      keys: [0, 1].map((index) => createMesaKeys(namespace).idempotency('dispatch', `sig:${hex}:${index}`)),
    })
    expect(ttls.map((ttl) => ttl > 590 && ttl <= 600)).toEqual([true, true])
  })

  it('logs a dispatch the Dispatcher refused as refused, the result its metric counts, not failed', async () => {
    const { lines, logger } = captured()
    const outcomes: string[] = []
    const metrics = { dispatched() {}, redisTime() {}, failed: (error: unknown) => void outcomes.push(outcomeOf(error)) }
    // The parser allows 10,000 recipients; this Dispatcher allows 1, so the 400 comes from the Dispatcher itself.
    const app = createApp({ dispatcher: stack.dispatcher({ maxRecipients: 1 }), auth: { token: TOKEN }, logger, metrics })

    const response = await app.fetch(dispatchCall({ message: { d: 1 }, recipients: ['a', 'b'] }))

    expect({ status: response.status, outcomes, logged: lines.find((line) => line.message === 'dispatch')?.result }).toEqual({
      status: 400,
      outcomes: ['refused'],
      logged: 'refused',
    })
  })

  it('counts an id reused for another dispatch as refused, for the sender to fix, and answers it 409', async () => {
    const { lines, logger } = captured()
    const outcomes: string[] = []
    const metrics = { dispatched() {}, redisTime() {}, failed: (error: unknown) => void outcomes.push(outcomeOf(error)) }
    const app = createApp({ dispatcher: stack.dispatcher({ namespace: stack.freshNamespace() }), auth: { token: TOKEN }, logger, metrics })
    await app.fetch(dispatchCall({ message: { d: 1 }, recipients: ['a'], id: 'reused' }))

    const response = await answer(app, dispatchCall({ message: { d: 2 }, recipients: ['a'], id: 'reused' }))

    expect({ response, outcomes, logged: lines.filter((line) => line.message === 'dispatch').map((line) => line.result) }).toEqual({
      response: {
        status: 409,
        retryAfter: null,
        body: {
          ok: false,
          error: {
            name: 'IdempotencyConflictError',
            message: 'the id "reused" was used for a different request within its dedupe window: nothing was applied; a new request needs a new id',
            outcome: 'none',
          },
        },
      },
      outcomes: ['refused'],
      logged: ['sent', 'refused'],
    })
  })

  it('logs one structured line per dispatch with counts and no token, signature or message data', async () => {
    const { lines, logger } = captured()
    const app = createApp({ dispatcher: stack.dispatcher(), auth: { token: TOKEN }, logger })
    await app.fetch(dispatchCall(secretNote))
    await app.fetch(dispatchCall(secretNote, { authorization: 'Bearer wrong-token-value' }))
    expect(lines.map(({ time: _time, requestId, durationMs, ...rest }) => ({ ...rest, requestId: typeof requestId, durationMs: typeof durationMs }))).toEqual([
      {
        level: 'info',
        message: 'dispatch',
        key: 'default',
        result: 'sent',
        batch: false,
        dispatches: 1,
        failed: 0,
        requestId: 'string',
        durationMs: 'number',
      },
      { level: 'info', message: 'request refused', status: 401, error: 'AuthenticationError', requestId: 'string', durationMs: 'undefined' },
    ])
    expect(JSON.stringify(lines)).not.toMatch(new RegExp(`${SECRET_DATA}|${TOKEN}|wrong-token-value|${GATEWAY_TOKEN}`))
  })

  it.each([
    [
      '10,001 recipients, over the default limit',
      { message: { d: 1 }, recipients: Array.from({ length: 10_001 }, (_, i) => `u${i}`) },
      'recipients',
      'recipients must name at most 10000 recipients, got 10001',
    ],
    ['a type of 257 characters', { message: { d: 1, t: 'T'.repeat(257) } }, 'message.t', 'message.t must be at most 256 characters'],
    ['an id of 257 characters', { message: { d: 1 }, id: 'i'.repeat(257) }, 'id', 'id must be a non-empty string of at most 256 characters'],
    ['101 dispatches in a batch', { dispatches: Array(101).fill({ event: 'DISCONNECT_CLIENT' }) }, 'dispatches', 'dispatches must hold at most 100 dispatches'],
  ])('refuses %s by default, naming the limit', async (_, body, field, message) => {
    const app = createApp({ dispatcher: stack.dispatcher(), auth: { token: TOKEN }, logger: captured().logger })
    const before = stack.gateway.requests
    expect(await answer(app, dispatchCall(body))).toEqual({
      status: 400,
      retryAfter: null,
      body: { ok: false, error: { name: 'ValidationError', message, field, outcome: 'none' } },
    })
    expect(stack.gateway.requests - before).toBe(0)
  })

  it('sends 10,000 recipients, and a batch of 100 dispatches, in one Redis request each', async () => {
    const app = createApp({ dispatcher: stack.dispatcher({ sync: { enabled: true } }), auth: { token: TOKEN }, logger: captured().logger })
    await app.fetch(dispatchCall({ event: 'DISCONNECT_CLIENT' })) // loads the script into Redis
    const counted = async (body: unknown) => {
      const before = stack.gateway.requests
      const { status } = await answer(app, dispatchCall(body))
      return { status, requests: stack.gateway.requests - before }
    }
    expect([
      await counted({ message: { d: 1 }, recipients: Array.from({ length: 10_000 }, (_, i) => `u${i}`) }),
      await counted({ dispatches: Array.from({ length: 100 }, (_, n) => ({ message: { d: { n } }, recipients: [`u${n}`] })) }),
    ]).toEqual([
      { status: 200, requests: 1 },
      { status: 200, requests: 1 },
    ])
  })
})
