import { describe, expect, it } from 'vitest'
import { type FetchServer, serveFetch } from '../dev/serve-fetch'
import { ConfigError, createDispatchClient, type DispatchClientOptions, signRequest } from '../src/client/index'
import { DEFAULT_MAX_BACKLOG_READ_BYTES } from '../src/limits'
import { useCleanup } from './support/cleanup'
import { ENDPOINT_SECRET, ENDPOINT_TOKEN, HOOKS_KEY, serveEndpoint } from './support/dispatch-endpoint'
import { CLIENT_KEY, endpointFailureOf, recordedWaits } from './support/endpoint-failure'
import { useStack } from './support/stack'

// When the client sends a call again, and when it never does: counted in requests that reached an endpoint, with the
// waits between them asked of an injected sleep (and, for the deadline, an injected clock) rather than timed.
const stack = useStack()
const open = useCleanup()
const note = (n: number) => ({ message: { d: { n }, t: 'NOTE' }, recipients: ['offline-a'] })
const applied = {
  servers: 0,
  recipients: [],
  online: null,
  offline: ['offline-a'],
  unstored: [],
  stored: 1,
  dropped: 0,
  duplicate: false,
  excludingIgnored: false,
}

/** One request as an endpoint received it. */
interface Received {
  path: string
  idempotencyKey: string | null
  signature: string | null
  body: string
}

/** An endpoint that answers each request with the next of `answers` (the last one again once they run out), keeping what it received. */
async function scriptedEndpoint(answers: Array<() => Response>): Promise<FetchServer & { received: Received[] }> {
  const received: Received[] = []
  const server = open(
    await serveFetch(async (request) => {
      const { headers } = request
      received.push({
        path: new URL(request.url).pathname,
        idempotencyKey: headers.get('idempotency-key'),
        signature: headers.get('x-mesa-signature'),
        body: await request.text(),
      })
      return answers[Math.min(received.length, answers.length) - 1]!()
    }),
  )
  return Object.assign(server, { received })
}

const unavailable = (retryAfter: string) => () =>
  Response.json(
    { ok: false, error: { name: 'RedisUnavailableError', message: 'Redis did not answer in time', outcome: 'unknown' } },
    { status: 503, headers: { 'retry-after': retryAfter } },
  )
const rateLimited = (retryAfter: string) => () =>
  Response.json(
    { ok: false, error: { name: 'RateLimitedError', message: 'over the rate limit', outcome: 'none' } },
    { status: 429, headers: { 'retry-after': retryAfter } },
  )
const dispatched = () => Response.json({ ok: true, result: applied })

/** A clock that stands still but for the waits the client asks of it. */
function steppedClock(start: number): Pick<DispatchClientOptions, 'now' | 'sleep'> & { waits: number[] } {
  let now = start
  const waits: number[] = []
  return {
    waits,
    now: () => now,
    sleep: async (ms) => {
      waits.push(ms)
      now += ms
    },
  }
}

describe('the client refuses to be built', () => {
  it('with a maxRetries that is not a whole number from 0, or a deadlineMs not above 0, naming the option', () => {
    const built = (options: Partial<DispatchClientOptions>) => {
      try {
        createDispatchClient({ endpoint: 'http://127.0.0.1:1', token: ENDPOINT_TOKEN, ...options })
        return 'built'
      } catch (error) {
        return error instanceof ConfigError ? `${error.variable}: ${error.message}` : error
      }
    }
    expect([built({ maxRetries: -1 }), built({ maxRetries: 1.5 }), built({ deadlineMs: 0 }), built({ maxRetries: 0, deadlineMs: 1 })]).toEqual([
      'maxRetries: maxRetries must be a whole number, 0 or more',
      'maxRetries: maxRetries must be a whole number, 0 or more',
      'deadlineMs: deadlineMs must be above 0',
      'built',
    ])
  })
})

describe('the client never sends again', () => {
  it('a call the real endpoint refused with a 4xx other than 429: 400, 401, 403, 404, 409 for an id reused, 413 and 422', async () => {
    const namespace = stack.freshNamespace()
    const endpoint = open(await serveEndpoint(stack.dispatcher({ namespace, sync: { enabled: true } })))
    await stack.admin.hset(`undelivered_messages_${namespace}`, 'hoarder', 'x'.repeat(DEFAULT_MAX_BACKLOG_READ_BYTES + 1))
    const client = (options: Partial<DispatchClientOptions> = {}) =>
      createDispatchClient({ endpoint: endpoint.url, token: ENDPOINT_TOKEN, sleep: recordedWaits().sleep, ...options } as DispatchClientOptions)
    await client().dispatch(note(1), { idempotencyKey: 'order-1' })
    const calls = {
      400: () => client().dispatch({ message: { d: 1 }, recipients: [null as unknown as string] }),
      401: () => client({ token: 'not-the-token' }).dispatch(note(2)),
      403: () => client({ token: undefined, secret: HOOKS_KEY.signingSecret!, keyId: HOOKS_KEY.name }).presence(['a']),
      404: () => client({ endpoint: `${endpoint.url}/api` }).dispatch(note(2)),
      409: () => client().dispatch(note(2), { idempotencyKey: 'order-1' }),
      413: () => client().dispatch({ message: { d: 'x'.repeat(1024 * 1024) }, recipients: ['a'] }),
      422: () => client().backlog('hoarder'),
    }

    const seen: Record<string, { status: number; errorName?: string; attempts: number; requests: number }> = {}
    for (const [status, call] of Object.entries(calls)) {
      const before = endpoint.requests
      const { errorName, attempts } = await endpointFailureOf(call())
      seen[status] = { status: Number(status), errorName, attempts, requests: endpoint.requests - before }
    }

    const once = (status: number, errorName: string) => ({ status, errorName, attempts: 1, requests: 1 })
    expect(seen).toEqual({
      400: once(400, 'ValidationError'),
      401: once(401, 'AuthenticationError'),
      403: once(403, 'ForbiddenError'),
      404: once(404, 'NotFound'),
      409: once(409, 'IdempotencyConflictError'),
      413: once(413, 'PayloadTooLargeError'),
      422: once(422, 'BacklogTooLargeError'),
    })
  })

  it('a call past maxRetries: none with 0, four more with 4', async () => {
    const endpoint = await scriptedEndpoint([unavailable('0')])
    const { sleep } = recordedWaits()
    const tries = async (maxRetries: number) => {
      const { attempts } = await endpointFailureOf(createDispatchClient({ endpoint: endpoint.url, token: ENDPOINT_TOKEN, sleep, maxRetries }).dispatch(note(1)))
      return attempts
    }
    expect({ 0: await tries(0), 4: await tries(4), requests: endpoint.received.length }).toEqual({ 0: 1, 4: 5, requests: 6 })
  })

  it('a call whose next wait would end past deadlineMs: it stops and says so with what it sent', async () => {
    const endpoint = await scriptedEndpoint([unavailable('5')])
    const clock = steppedClock(1_000_000)
    const client = createDispatchClient({ endpoint: endpoint.url, token: ENDPOINT_TOKEN, deadlineMs: 8000, maxRetries: 5, ...clock })
    expect(await endpointFailureOf(client.dispatch(note(1)))).toMatchObject({ status: 503, outcome: 'unknown', attempts: 2, idempotencyKey: CLIENT_KEY })
    expect({ waits: clock.waits, requests: endpoint.received.length }).toEqual({ waits: [5000], requests: 2 })
  })
})

describe('the client sends a call again', () => {
  it("after a 429, once the endpoint's Retry-After has passed, and resolves with the answer that came then", async () => {
    const endpoint = await scriptedEndpoint([rateLimited('3'), dispatched])
    const { sleep, waits } = recordedWaits()
    const result = await createDispatchClient({ endpoint: endpoint.url, token: ENDPOINT_TOKEN, sleep }).dispatch(note(1))
    expect({ result, waits, requests: endpoint.received.length }).toEqual({ result: applied, waits: [3000], requests: 2 })
  })

  it('with the same Idempotency-Key and body each time, signed afresh with the time of its own attempt', async () => {
    const endpoint = await scriptedEndpoint([unavailable('2'), unavailable('2'), dispatched])
    const clock = steppedClock(1_800_000_000_000)
    await createDispatchClient({ endpoint: endpoint.url, secret: ENDPOINT_SECRET, ...clock }).dispatch(note(1))
    const [first] = endpoint.received
    const key = first!.idempotencyKey!
    const signed = (timestamp: number) =>
      signRequest(ENDPOINT_SECRET, { keyId: 'default', method: 'POST', path: '/dispatch', idempotencyKey: key, body: first!.body, timestamp })

    expect(key).toEqual(CLIENT_KEY)
    expect(endpoint.received).toEqual([
      { path: '/dispatch', idempotencyKey: key, signature: await signed(1_800_000_000), body: JSON.stringify(note(1)) },
      { path: '/dispatch', idempotencyKey: key, signature: await signed(1_800_000_002), body: JSON.stringify(note(1)) },
      { path: '/dispatch', idempotencyKey: key, signature: await signed(1_800_000_004), body: JSON.stringify(note(1)) },
    ])
  })

  it('keyed by the caller where it gave an id, by a key of its own where a change has none, and unkeyed when it only reads', async () => {
    const endpoint = await scriptedEndpoint([
      () => Response.json({ ok: false, error: { name: 'InternalError', message: 'internal error', outcome: 'unknown' } }, { status: 500 }),
    ])
    const client = createDispatchClient({ endpoint: endpoint.url, token: ENDPOINT_TOKEN, sleep: recordedWaits().sleep, maxRetries: 0 })
    const calls = {
      ownId: client.dispatch({ ...note(1), id: 'order-7' }),
      ownKey: client.dispatch(note(1), { idempotencyKey: 'order-8' }),
      none: client.dispatch(note(1)),
      batchAllIds: client.dispatchBatch([
        { ...note(1), id: 'a' },
        { ...note(2), id: 'b' },
      ]),
      batchSomeIds: client.dispatchBatch([{ ...note(1), id: 'a' }, note(2)]),
      clear: client.clearBacklog(['offline-a']),
      presence: client.presence(['offline-a']),
    }
    const keys: Record<string, unknown> = {}
    for (const [name, call] of Object.entries(calls)) keys[name] = (await endpointFailureOf(call)).idempotencyKey
    expect(keys).toEqual({
      ownId: undefined,
      ownKey: 'order-8',
      none: CLIENT_KEY,
      batchAllIds: undefined,
      batchSomeIds: CLIENT_KEY,
      clear: CLIENT_KEY,
      presence: undefined,
    })
    expect(endpoint.received.map((each) => each.idempotencyKey)).toEqual(Object.values(keys).map((key) => key ?? null))
  })
})
