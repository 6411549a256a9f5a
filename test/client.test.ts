import { describe, expect, it } from 'vitest'
import { serveFetch } from '../dev/serve-fetch'
import { createDispatchClient, type DispatchClient } from '../src/client/index'
import { ConfigError, Dispatcher } from '../src/index'
import { useCleanup } from './support/cleanup'
import { ENDPOINT_SECRET, ENDPOINT_TOKEN, HOOKS_KEY, serveEndpoint } from './support/dispatch-endpoint'
import { CLIENT_KEY, endpointFailureOf, recordedWaits } from './support/endpoint-failure'
import { useMesaBehindEndpoint } from './support/mesa-behind-endpoint'
import { connectMesaClient } from './support/mesa-client'
import { freePort } from './support/ports'
import { useStack } from './support/stack'
import { listenTcp } from './support/tcp-server'

// createDispatchClient against the real HTTP app served over HTTP, a real Mesa server and real WebSocket clients.
const stack = useStack()
const open = useCleanup()
const served = useMesaBehindEndpoint(stack)

const withToken = (): DispatchClient => createDispatchClient({ endpoint: served.endpoint.url, token: ENDPOINT_TOKEN })
const statusUpdate = { message: { d: { status: 'online' }, t: 'STATUS_UPDATE' }, recipients: ['0', 'offline-a'] }
// Sent while client 0 is not connected, so it names only an id that never connects: nothing is stored for 0.
const offlineNote = { message: { d: { n: 0 }, t: 'NOTE' }, recipients: ['offline-a'] }

describe('createDispatchClient', () => {
  it('says, on a 404, which URL answered and that the endpoint is the base URL, as the CLI does', async () => {
    const client = createDispatchClient({ endpoint: `${served.endpoint.url}/api`, token: ENDPOINT_TOKEN })

    expect(await endpointFailureOf(client.dispatch(offlineNote))).toEqual({
      name: 'DispatchEndpointError',
      message: `no such route: ${served.endpoint.url}/api/dispatch answered 404; endpoint is the base URL of /dispatch and /health`,
      status: 404,
      errorName: 'NotFound',
      field: undefined,
      retryAfter: undefined,
      outcome: 'none',
      attempts: 1,
      idempotencyKey: CLIENT_KEY,
    })
  })

  it('delivers a dispatch sent with a token as the exact frame, and resolves with the whole result', async () => {
    const zero = open(await connectMesaClient(served.mesa.url, '0'))
    // A trailing slash on the endpoint, as API Gateway's console shows it, still reaches /dispatch.
    const client = createDispatchClient({ endpoint: `${served.endpoint.url}/`, token: ENDPOINT_TOKEN })

    const result = await client.dispatch(statusUpdate)

    expect(result).toEqual({
      servers: 1,
      recipients: ['0'],
      online: ['0'],
      offline: ['offline-a'],
      unstored: [],
      stored: 1,
      dropped: 0,
      duplicate: false,
      excludingIgnored: false,
    })
    await zero.waitForMessages(1)
    expect(zero.raw).toEqual(['{"op":0,"d":{"status":"online"},"t":"STATUS_UPDATE"}'])
  })

  it('accepts the route URL /dispatch as the endpoint too, as a ready line or deploy output prints it', async () => {
    const zero = open(await connectMesaClient(served.mesa.url, '0'))
    const client = createDispatchClient({ endpoint: `${served.endpoint.url}/dispatch`, token: ENDPOINT_TOKEN })
    expect((await client.dispatch(statusUpdate)).recipients).toEqual(['0'])
    expect(await client.health()).toEqual({ ok: true, service: 'mesa-dispatch', keys: 2 })
    await zero.waitForMessages(1)
  })

  it('delivers a dispatch signed with the secret', async () => {
    const zero = open(await connectMesaClient(served.mesa.url, '0'))
    const client = createDispatchClient({ endpoint: served.endpoint.url, secret: ENDPOINT_SECRET })

    const result = await client.dispatch({ message: { op: 0, d: { n: 2 }, t: 'NOTE', o: { sync: false } }, recipients: ['0', '1'], excluding: ['1'] })

    expect(result).toEqual({
      servers: 1,
      recipients: ['0'],
      online: ['0'],
      offline: [],
      unstored: [],
      stored: 0,
      dropped: 0,
      duplicate: false,
      excludingIgnored: false,
    })
    await zero.waitForMessages(1)
    expect(zero.raw).toEqual(['{"op":0,"d":{"n":2},"t":"NOTE"}'])
  })

  it('closes a client with disconnect, and applies a repeated idempotency key once', async () => {
    const zero = open(await connectMesaClient(served.mesa.url, '0'))
    const client = withToken()

    const first = await client.disconnect(['0'], { idempotencyKey: `disconnect-${Date.now()}` })

    expect(first).toEqual({
      servers: 1,
      recipients: ['0'],
      online: null,
      offline: [],
      unstored: [],
      stored: 0,
      dropped: 0,
      duplicate: false,
      excludingIgnored: false,
    })
    expect(await zero.closed).toEqual({ code: 1000 })
    const key = `note-${Date.now()}`
    await client.dispatch(offlineNote, { idempotencyKey: key })
    expect(await client.dispatch(offlineNote, { idempotencyKey: key })).toEqual({
      servers: 0,
      recipients: [],
      online: null,
      offline: [],
      unstored: [],
      stored: 0,
      dropped: 0,
      duplicate: true,
      excludingIgnored: false,
    })
  })

  it('resolves a batch with each item outcome, for 200 and 207 alike', async () => {
    const namespace = stack.freshNamespace()
    // Mesa's online set holding a string makes every message fail with WRONGTYPE, while events never read it.
    await stack.admin.set(`connected_clients_${namespace}`, 'not a set')
    const broken = open(await serveEndpoint(stack.dispatcher({ namespace, sync: { enabled: true } })))
    const batch = [offlineNote, { event: 'DISCONNECT_CLIENT' as const, recipients: ['nobody'] }]
    const disconnected = {
      servers: 0,
      recipients: ['nobody'],
      online: null,
      offline: [],
      unstored: [],
      stored: 0,
      dropped: 0,
      duplicate: false,
      excludingIgnored: false,
    }

    const healthy = await withToken().dispatchBatch(batch)
    const partial = await createDispatchClient({ endpoint: broken.url, token: ENDPOINT_TOKEN }).dispatchBatch(batch)

    expect({ healthy, partial }).toEqual({
      healthy: [
        {
          ok: true,
          result: {
            servers: 1,
            recipients: [],
            online: [],
            offline: ['offline-a'],
            unstored: [],
            stored: 1,
            dropped: 0,
            duplicate: false,
            excludingIgnored: false,
          },
        },
        { ok: true, result: { ...disconnected, servers: 1 } },
      ],
      partial: [
        { ok: false, error: { name: 'RedisCommandError', message: 'Redis refused the request; nothing was applied', outcome: 'none' } },
        { ok: true, result: disconnected },
      ],
    })
  })

  it('rejects a batch in which every item failed with the status and the first item error', async () => {
    const namespace = stack.freshNamespace()
    await stack.admin.set(`connected_clients_${namespace}`, 'not a set')
    const broken = open(await serveEndpoint(stack.dispatcher({ namespace, sync: { enabled: true } })))
    const call = createDispatchClient({ endpoint: broken.url, token: ENDPOINT_TOKEN }).dispatchBatch([offlineNote, offlineNote])
    expect(await endpointFailureOf(call)).toEqual({
      name: 'DispatchEndpointError',
      message: 'Redis refused the request; nothing was applied',
      status: 502,
      errorName: 'RedisCommandError',
      outcome: 'none',
      attempts: 1,
      idempotencyKey: CLIENT_KEY,
    })
  })

  it('reads the health of the endpoint without credentials', async () => {
    const client = createDispatchClient({ endpoint: served.endpoint.url, token: 'not-the-token' })
    expect(await client.health()).toEqual({ ok: true, service: 'mesa-dispatch', keys: 2 })
  })

  it('rejects a 400 with the endpoint error name, message and field', async () => {
    const call = withToken().dispatch({ message: { d: 1 }, recipients: ['0', null as unknown as string] })
    expect(await endpointFailureOf(call)).toEqual({
      name: 'DispatchEndpointError',
      message: 'recipients[1] must be a string or a finite number, got null',
      status: 400,
      errorName: 'ValidationError',
      field: 'recipients[1]',
      outcome: 'none',
      attempts: 1,
      idempotencyKey: CLIENT_KEY,
    })
  })

  it('rejects a wrong token with status 401', async () => {
    const call = createDispatchClient({ endpoint: served.endpoint.url, token: 'not-the-token' }).dispatch(statusUpdate)
    expect(await endpointFailureOf(call)).toEqual({
      name: 'DispatchEndpointError',
      message: 'the bearer token is missing or wrong',
      status: 401,
      errorName: 'AuthenticationError',
      outcome: 'none',
      attempts: 1,
      idempotencyKey: CLIENT_KEY,
    })
  })

  it('rejects with status 0 saying the connection was refused when nothing listens at the endpoint, after 2 retries, nothing applied', async () => {
    const down = `http://127.0.0.1:${await freePort()}`
    const { sleep, waits } = recordedWaits()
    expect(await endpointFailureOf(createDispatchClient({ endpoint: down, token: ENDPOINT_TOKEN, sleep }).dispatch(statusUpdate))).toEqual({
      name: 'DispatchEndpointError',
      message: `the dispatch endpoint at ${down} refused the connection (ECONNREFUSED): nothing listens on that port`,
      status: 0,
      outcome: 'none',
      attempts: 3,
      idempotencyKey: CLIENT_KEY,
    })
    // Full jitter: a random part of 250 ms, then of 500 ms.
    expect(waits.map((ms, index) => ms >= 0 && ms <= 250 * 2 ** index)).toEqual([true, true])
  })

  it('rejects with status 0 saying it did not answer in time when the endpoint stays silent', async () => {
    const silent = open(await serveFetch(() => new Promise<Response>(() => {})))
    const call = createDispatchClient({ endpoint: silent.url, token: ENDPOINT_TOKEN, timeoutMs: 50, sleep: recordedWaits().sleep }).dispatch(statusUpdate)
    expect(await endpointFailureOf(call)).toEqual({
      name: 'DispatchEndpointError',
      message: `the dispatch endpoint at ${silent.url} did not answer within 50 ms`,
      status: 0,
      outcome: 'unknown',
      attempts: 3,
      idempotencyKey: CLIENT_KEY,
    })
  })

  it('rejects with status 0 saying the connection was closed when the endpoint hangs up without an answer', async () => {
    const rude = open(await listenTcp((socket) => socket.once('data', () => socket.destroy())))
    const call = createDispatchClient({ endpoint: rude.url, token: ENDPOINT_TOKEN, sleep: recordedWaits().sleep }).dispatch(statusUpdate)
    expect(await endpointFailureOf(call)).toEqual({
      name: 'DispatchEndpointError',
      message: `the dispatch endpoint at ${rude.url} closed the connection without an answer (UND_ERR_SOCKET)`,
      status: 0,
      outcome: 'unknown',
      attempts: 3,
      idempotencyKey: CLIENT_KEY,
    })
  })

  it("rejects with status 0 saying the host was not found, from the failure's cause code alone", async () => {
    // The lookup is the runtime's; a fetch failing as undici does for an unknown host isolates the wording.
    const notFound = (code: string) => async () => {
      throw new TypeError('fetch failed', { cause: Object.assign(new Error(`getaddrinfo ${code} mesa.invalid`), { code }) })
    }
    const calls = ['ENOTFOUND', 'EAI_AGAIN'].map((code) =>
      endpointFailureOf(
        createDispatchClient({ endpoint: 'https://mesa.invalid', token: ENDPOINT_TOKEN, fetch: notFound(code), sleep: recordedWaits().sleep }).dispatch(
          statusUpdate,
        ),
      ),
    )
    expect(await Promise.all(calls)).toEqual(
      ['ENOTFOUND', 'EAI_AGAIN'].map((code) => ({
        name: 'DispatchEndpointError',
        message: `the dispatch endpoint at https://mesa.invalid could not be found: its host name did not resolve (${code})`,
        status: 0,
        outcome: 'none',
        attempts: 3,
        idempotencyKey: CLIENT_KEY,
      })),
    )
  })

  it('rejects with status 0 saying the connection was refused when only the errors an AggregateError gathered carry a code', async () => {
    // As older Node versions and other runtimes build it for a host tried at several addresses: no code of its own.
    const refusedEverywhere = async () => {
      const gathered = ['::1', '127.0.0.1'].map((address) => Object.assign(new Error(`connect ECONNREFUSED ${address}:80`), { code: 'ECONNREFUSED' }))
      throw new TypeError('fetch failed', { cause: new AggregateError(gathered) })
    }
    const client = createDispatchClient({ endpoint: 'http://localhost', token: ENDPOINT_TOKEN, fetch: refusedEverywhere, sleep: recordedWaits().sleep })
    expect(await endpointFailureOf(client.dispatch(statusUpdate))).toEqual({
      name: 'DispatchEndpointError',
      message: 'the dispatch endpoint at http://localhost refused the connection (ECONNREFUSED): nothing listens on that port',
      status: 0,
      outcome: 'none',
      attempts: 3,
      idempotencyKey: CLIENT_KEY,
    })
  })

  it('rejects a 503 with the Retry-After seconds when the endpoint cannot reach Redis, having waited them before each retry', async () => {
    const unreachable = new Dispatcher({ url: `http://127.0.0.1:${await freePort()}`, token: 'redis-token', retries: 0 })
    const cut = open(await serveEndpoint(unreachable))
    const { sleep, waits } = recordedWaits()
    expect(await endpointFailureOf(createDispatchClient({ endpoint: cut.url, token: ENDPOINT_TOKEN, sleep }).dispatch(statusUpdate))).toEqual({
      name: 'DispatchEndpointError',
      message: 'the dispatch endpoint cannot reach Redis right now; nothing was applied; retry later',
      status: 503,
      errorName: 'RedisUnavailableError',
      retryAfter: 5,
      outcome: 'none',
      attempts: 3,
      idempotencyKey: CLIENT_KEY,
    })
    expect(waits).toEqual([5000, 5000])
  })

  it("rejects a proxy's HTML error page with its status", async () => {
    const proxy = open(
      await serveFetch(async () => new Response('<html><body>502 Bad Gateway</body></html>', { status: 502, headers: { 'content-type': 'text/html' } })),
    )
    const client = createDispatchClient({ endpoint: proxy.url, token: ENDPOINT_TOKEN, sleep: recordedWaits().sleep })
    // The proxy may have forwarded the request before it failed: the dispatch may have been applied.
    expect(await endpointFailureOf(client.dispatch(statusUpdate))).toEqual({
      name: 'DispatchEndpointError',
      message: 'the dispatch endpoint answered 502 with a body that is not JSON',
      status: 502,
      outcome: 'unknown',
      attempts: 3,
      idempotencyKey: CLIENT_KEY,
    })
  })

  it('signs as the key keyId names, and is held to that key: hooks may dispatch, not ask presence', async () => {
    const hooks = createDispatchClient({ endpoint: served.endpoint.url, secret: HOOKS_KEY.signingSecret!, keyId: HOOKS_KEY.name })
    const unnamed = createDispatchClient({ endpoint: served.endpoint.url, secret: HOOKS_KEY.signingSecret! })
    expect([
      (await hooks.dispatch(statusUpdate)).servers,
      await endpointFailureOf(hooks.presence(['0'])),
      await endpointFailureOf(unnamed.dispatch(statusUpdate)),
    ]).toEqual([
      1,
      {
        name: 'DispatchEndpointError',
        message: 'key "hooks" lacks the scope presence',
        status: 403,
        errorName: 'ForbiddenError',
        outcome: 'none',
        attempts: 1,
      },
      {
        name: 'DispatchEndpointError',
        message: 'the signature does not match the request',
        status: 401,
        errorName: 'AuthenticationError',
        outcome: 'none',
        attempts: 1,
        idempotencyKey: CLIENT_KEY,
      },
    ])
  })

  it('refuses to be built with both a token and a secret, or neither', () => {
    const both = () => createDispatchClient({ endpoint: served.endpoint.url, token: ENDPOINT_TOKEN, secret: ENDPOINT_SECRET })
    const neither = () => createDispatchClient({ endpoint: served.endpoint.url })
    expect([both, neither].map((build) => captureConfigError(build))).toEqual([
      { variable: 'token', message: 'token or secret must be given, but not both' },
      { variable: 'token', message: 'token or secret must be given, but not both' },
    ])
  })
})

function captureConfigError(build: () => unknown): { variable: string; message: string } | undefined {
  try {
    build()
  } catch (error) {
    if (error instanceof ConfigError) return { variable: error.variable, message: error.message }
    throw error
  }
  return undefined
}
