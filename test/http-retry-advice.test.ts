import { beforeAll, describe, expect, it } from 'vitest'
import type { GatewayIntercept } from '../dev/upstash-gateway'
import { createApp } from '../src/http/app'
import { Dispatcher } from '../src/index'
import { createLogger } from '../src/observe/logger'
import { useStack } from './support/stack'
import { pauseWritesAtNextRequest } from './support/write-pause'

// What the endpoint tells a raw HTTP caller when Redis did not answer in time, and that following it applies the
// request exactly once: Redis paused for writes while the request is in it, so the endpoint times out, and Redis
// runs it after.
let fault: GatewayIntercept | undefined
const stack = useStack({ intercept: (req, res) => fault?.(req, res) ?? false })
const TOKEN = 'retry-advice-dispatch-token'
// Redis holds the scripts, as a warm one does: a paused EVALSHA of a script it lacked would end in NOSCRIPT, unrun.
beforeAll(() => stack.loadScripts())
const note = { message: { d: { n: 1 }, t: 'NOTE' }, recipients: ['offline-user'] }

/** An app whose Dispatcher gives Redis 400 ms and no retry, over a fresh namespace. */
function endpoint() {
  const namespace = stack.freshNamespace()
  const dispatcher = new Dispatcher({ ...stack.connection, timeoutMs: 400, retries: 0 }, { namespace, sync: { enabled: true } })
  const app = createApp({ dispatcher, auth: { token: TOKEN }, logger: createLogger({}, () => {}) })
  const stored = async () => JSON.parse((await stack.admin.hget(`undelivered_messages_${namespace}`, 'offline-user')) ?? '[]').length as number
  const send = async (headers: Record<string, string> = {}, path = '/dispatch', body: unknown = note) => {
    const response = await app.fetch(
      new Request(`https://dispatch.example.com${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      }),
    )
    return { status: response.status, body: (await response.json()) as { ok: boolean; error?: Record<string, string>; result?: { duplicate: boolean } } }
  }
  return { send, stored }
}

/** Pauses Redis for writes as the next request reaches it, for 1.5 s; resolves once Redis has run what it held. */
function pauseNextRequest(): { resumed: () => Promise<void> } {
  const pause = pauseWritesAtNextRequest(stack.admin)
  fault = pause.intercept
  return {
    async resumed() {
      fault = undefined
      await pause.resumed()
    },
  }
}

describe('a request Redis did not answer in time', () => {
  it('came with no id: the answer gives it one, and the same request resent with it as Idempotency-Key is applied once', async () => {
    const { send, stored } = endpoint()
    const pause = pauseNextRequest()
    const first = await send()
    await pause.resumed()
    const key = first.body.error?.idempotencyKey

    expect(first).toEqual({
      status: 503,
      body: {
        ok: false,
        error: {
          name: 'RedisUnavailableError',
          message: `Redis did not answer in time: the request may have been applied; send the same request again with the header Idempotency-Key: ${key} within 600 seconds to apply it at most once`,
          outcome: 'unknown',
          idempotencyKey: expect.stringMatching(/^gen:[0-9a-f-]{36}$/),
        },
      },
    })
    // Redis ran the request after all; the resend as told is a duplicate, and the user has the message once.
    const resent = await send({ 'idempotency-key': key! })
    expect({ status: resent.status, duplicate: resent.body.result?.duplicate, stored: await stored() }).toEqual({ status: 200, duplicate: true, stored: 1 })
  })

  it('came with an Idempotency-Key: the answer says to send it again with it, and that resend is applied once', async () => {
    const { send, stored } = endpoint()
    const pause = pauseNextRequest()
    const first = await send({ 'idempotency-key': 'order-42' })
    await pause.resumed()

    expect(first).toEqual({
      status: 503,
      body: {
        ok: false,
        error: {
          name: 'RedisUnavailableError',
          message:
            'Redis did not answer in time: the request may have been applied; send it again with the same id or Idempotency-Key to apply it at most once',
          outcome: 'unknown',
        },
      },
    })
    const resent = await send({ 'idempotency-key': 'order-42' })
    expect({ status: resent.status, duplicate: resent.body.result?.duplicate, stored: await stored() }).toEqual({ status: 200, duplicate: true, stored: 1 })
  })

  it('is a clear: the answer gives it an id too, and the resend removes nothing more', async () => {
    const { send, stored } = endpoint()
    await send({ 'idempotency-key': 'fill' })
    const pause = pauseNextRequest()
    const first = await send({}, '/backlog/clear', { recipients: ['offline-user'] })
    await pause.resumed()
    const key = first.body.error?.idempotencyKey

    expect({ status: first.status, outcome: first.body.error?.outcome, key }).toEqual({ status: 503, outcome: 'unknown', key: expect.stringMatching(/^gen:/) })
    const resent = await send({ 'idempotency-key': key! }, '/backlog/clear', { recipients: ['offline-user'] })
    expect({ status: resent.status, duplicate: resent.body.result?.duplicate, stored: await stored() }).toEqual({ status: 200, duplicate: true, stored: 0 })
  })
})
