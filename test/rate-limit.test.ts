import { describe, expect, it } from 'vitest'
import type { ApiKey } from '../src/http/api-keys'
import { type BuiltHttpInstance, useBuiltHttp } from './support/built-http'
import { type HttpCall, lambdaContext, sqsEvent, sqsRecord } from './support/events'
import { awayFromWindowEnd, secondsToWindowEnd } from './support/rate-window'
import { useStack } from './support/stack'

// Per-key rate limits through the built http function, against a real redis-server behind the Upstash gateway:
// counted in the script call that does the work, exact under concurrency, and for keys only.
const stack = useStack()
const built = useBuiltHttp()
const ALL = ['dispatch', 'presence', 'backlog:read', 'backlog:clear'] as ApiKey['scopes']
const HOUR = 3600

/** A key named `name` with every scope and a limit of `requests` per hour. */
const limited = (name: string, requests: number): ApiKey => ({
  name,
  token: `${name}-token-0123456789`,
  scopes: ALL,
  rateLimit: { requests, windowSeconds: HOUR },
})
const FREE: ApiKey = { name: 'free', token: 'free-token-0123456789', scopes: ALL }

/** A fresh namespace and the built function serving `keys` in it. */
async function endpoint(keys: ApiKey[]): Promise<{ http: BuiltHttpInstance; namespace: string }> {
  await awayFromWindowEnd(HOUR)
  await stack.loadScripts()
  const namespace = stack.freshNamespace()
  return { namespace, http: await built.start({ ...stack.functionEnv(namespace), DISPATCH_KEYS: JSON.stringify(keys) }) }
}

const post = (path: string, body: unknown, key: ApiKey): HttpCall => ({
  method: 'POST',
  path,
  headers: { authorization: `Bearer ${key.token}`, 'content-type': 'application/json' },
  body: JSON.stringify(body),
})
const note = (recipient: string) => ({ message: { d: { nonce: crypto.randomUUID() }, t: 'NOTE' }, recipients: [recipient] })

describe('a per-key rate limit', () => {
  it('applies exactly 5 of 20 concurrent requests against a limit of 5, in one Redis request each, and answers the rest 429 with Retry-After', async () => {
    const key = limited('burst', 5)
    const { http, namespace } = await endpoint([key])
    let replies: Awaited<ReturnType<BuiltHttpInstance['send']>>[] = []
    const requests = await stack.requestsDuring(async () => {
      replies = await Promise.all(Array.from({ length: 20 }, () => http.send(post('/dispatch', note('counted'), key))))
    })
    const expected = secondsToWindowEnd(HOUR)
    const limitedReplies = replies.filter((reply) => reply.status === 429)
    const stored = JSON.parse((await stack.admin.hget(`undelivered_messages_${namespace}`, 'counted')) ?? '[]') as unknown[]
    expect({
      statuses: replies.map((reply) => reply.status).sort(),
      stored: stored.length,
      requests,
      // One body, but for the seconds to wait, which count down while the 20 are answered.
      bodies: new Set(limitedReplies.map((reply) => JSON.stringify(reply.body).replace(/retry in \d+ s/, 'retry in N s'))).size,
    }).toEqual({ statuses: [...Array(5).fill(200), ...Array(15).fill(429)], stored: 5, requests: 20, bodies: 1 })
    expect(limitedReplies[0]!.body).toEqual({
      ok: false,
      error: {
        name: 'RateLimitedError',
        message: `key "burst" has made its 5 requests of this 3600-second window; nothing was applied: retry in ${limitedReplies[0]!.headers['retry-after']} s`,
        outcome: 'none',
      },
    })
    for (const reply of limitedReplies) expect(Math.abs(Number(reply.headers['retry-after']) - expected)).toBeLessThanOrEqual(1)
  })

  it('leaves other keys alone: a key without a limit, and another key with its own, go on when one key is spent', async () => {
    const spent = limited('spent', 1)
    const other = limited('other', 1)
    const { http } = await endpoint([spent, other, FREE])
    const statuses = []
    for (const key of [spent, spent, other, FREE, FREE, FREE]) statuses.push((await http.send(post('/dispatch', note('x'), key))).status)
    expect(statuses).toEqual([200, 429, 200, 200, 200, 200])
  })

  it('counts a batch as its number of dispatches, admitted or refused whole', async () => {
    const key = limited('batches', 5)
    const { http, namespace } = await endpoint([key])
    const batch = (size: number) => post('/dispatch', { dispatches: Array.from({ length: size }, () => note('batched')) }, key)
    const three = await http.send(batch(3))
    const threeMore = await http.send(batch(3))
    const two = await http.send(batch(2))
    const six = await http.send(batch(6))
    const stored = JSON.parse((await stack.admin.hget(`undelivered_messages_${namespace}`, 'batched')) ?? '[]') as unknown[]
    expect({
      statuses: [three.status, threeMore.status, two.status, six.status],
      retryAfter: [threeMore.headers['retry-after'] !== undefined, six.headers['retry-after']],
      six: six.body,
      stored: stored.length,
    }).toEqual({
      statuses: [200, 429, 200, 429],
      retryAfter: [true, undefined],
      six: {
        ok: false,
        error: {
          name: 'RateLimitedError',
          message: 'a request counted as 6 is more than key "batches" may make in a whole window (5 per 3600 s): send it in smaller batches',
          outcome: 'none',
        },
      },
      stored: 5,
    })
  })

  it('counts the questions in their own script call: presence and backlog pass, the clear over the limit removes nothing', async () => {
    const key = limited('asker', 3)
    const { http, namespace } = await endpoint([key])
    await http.send(post('/dispatch', note('asked'), key))
    let statuses: number[] = []
    const requests = await stack.requestsDuring(async () => {
      statuses = [
        (await http.send(post('/presence', { recipients: ['asked'] }, key))).status,
        (await http.send(post('/backlog', { recipient: 'asked' }, key))).status,
        (await http.send(post('/backlog/clear', { recipients: ['asked'] }, key))).status,
        (await http.send(post('/presence', {}, key))).status,
      ]
    })
    expect({ statuses, requests, left: await stack.admin.hexists(`undelivered_messages_${namespace}`, 'asked') }).toEqual({
      statuses: [200, 200, 429, 429],
      requests: 4,
      left: 1,
    })
  })

  it('never limits SQS or EventBridge, which have no key: IAM guards them', async () => {
    const namespace = stack.freshNamespace()
    Object.assign(process.env, { ...stack.functionEnv(namespace), DISPATCH_KEYS: JSON.stringify([limited('ignored', 1)]) })
    const { handler } = await import('../functions/sqs')
    const records = Array.from({ length: 10 }, () => sqsRecord(JSON.stringify(note('queued'))))
    const response = await handler(sqsEvent(records), lambdaContext())
    const stored = JSON.parse((await stack.admin.hget(`undelivered_messages_${namespace}`, 'queued')) ?? '[]') as unknown[]
    expect({ failures: response.batchItemFailures, stored: stored.length }).toEqual({ failures: [], stored: 10 })
  })
})
