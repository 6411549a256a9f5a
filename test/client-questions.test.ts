import { describe, expect, it } from 'vitest'
import { type FetchServer, serveFetch } from '../dev/serve-fetch'
import { createDispatchClient, type DispatchClient } from '../src/client/index'
import { Dispatcher } from '../src/index'
import { useCleanup } from './support/cleanup'
import { ENDPOINT_SECRET, ENDPOINT_TOKEN, serveEndpoint } from './support/dispatch-endpoint'
import { CLIENT_KEY, endpointFailureOf, recordedWaits } from './support/endpoint-failure'
import { useMesaBehindEndpoint } from './support/mesa-behind-endpoint'
import { connectMesaClient } from './support/mesa-client'
import { freePort } from './support/ports'
import { useStack } from './support/stack'

// The client's questions (presence, connectedCount, backlog, clearBacklog) against the real HTTP app served over
// HTTP, a real Mesa 1.5.8 server and real WebSocket clients: one HTTP request each, typed answers, typed errors.
const stack = useStack()
const open = useCleanup()
const served = useMesaBehindEndpoint(stack)

const withToken = (): DispatchClient => createDispatchClient({ endpoint: served.endpoint.url, token: ENDPOINT_TOKEN })
const note = (n: number) => ({ message: { d: { n }, t: 'NOTE' } })

/** The answers of `calls` in order, and how many HTTP requests they made. */
async function counted(calls: Array<() => Promise<unknown>>): Promise<{ answers: unknown[]; requests: number }> {
  const before = served.endpoint.requests
  const answers: unknown[] = []
  for (const call of calls) answers.push(await call())
  return { answers, requests: served.endpoint.requests - before }
}

describe('the client asks the endpoint', () => {
  it('who is online and how many are connected, as real Mesa clients log in, with numbers kept numbers', async () => {
    const client = withToken()
    const ana = await connectMesaClient(served.mesa.url, 'ana')
    open(await connectMesaClient(served.mesa.url, 9))

    const online = await counted([() => client.presence(['ana', 9, '9', 'ben', 'ana']), () => client.connectedCount()])
    await ana.close()
    const after = await counted([() => client.presence(['ana', 9]), () => client.connectedCount()])

    expect([online, after]).toEqual([
      { answers: [{ online: ['ana', 9, '9', 'ana'], offline: ['ben'] }, 2], requests: 2 },
      { answers: [{ online: [9], offline: ['ana'] }, 1], requests: 2 },
    ])
  })

  it('what waits for a client and clears it, signed with the secret, so that the next login redelivers nothing', async () => {
    const client = createDispatchClient({ endpoint: served.endpoint.url, secret: ENDPOINT_SECRET })
    await client.dispatch({ ...note(1), recipients: ['cal'] })
    await client.dispatch({ message: { d: 'two', o: { sync: true } }, recipients: ['cal'] })

    const { answers, requests } = await counted([() => client.backlog('cal'), () => client.clearBacklog(['cal', 'nobody']), () => client.backlog('cal')])
    const cal = open(await connectMesaClient(served.mesa.url, 'cal'))
    await cal.expectNoMoreMessages(300)

    const bytes = Buffer.byteLength('[{"op":0,"d":{"n":1},"t":"NOTE"},{"op":0,"d":"two","o":{"sync":true}}]')
    expect({ answers, requests }).toEqual({
      answers: [
        {
          messages: [
            { op: 0, d: { n: 1 }, t: 'NOTE' },
            { op: 0, d: 'two' },
          ],
          count: 2,
          bytes,
          total: 2,
          cursor: null,
          truncated: false,
        },
        {
          cleared: [
            { recipient: 'cal', messages: 2, bytes },
            { recipient: 'nobody', messages: 0, bytes: 0 },
          ],
          duplicate: false,
        },
        { messages: [], count: 0, bytes: 0, total: 0, cursor: null, truncated: false },
      ],
      requests: 3,
    })
  })

  it('to clear once per idempotencyKey, so that a retried clear removes nothing that arrived since', async () => {
    const client = withToken()
    const idempotencyKey = `clear-${crypto.randomUUID()}`
    await client.dispatch({ ...note(1), recipients: ['dee'] })
    const first = await client.clearBacklog(['dee'], { idempotencyKey })
    await client.dispatch({ ...note(2), recipients: ['dee'] })
    const retried = await client.clearBacklog(['dee'], { idempotencyKey })

    expect([first.duplicate, first.cleared[0]!.messages, retried, (await client.backlog('dee')).count]).toEqual([
      false,
      1,
      { cleared: [{ recipient: 'dee', messages: 0, bytes: 0 }], duplicate: true },
      1,
    ])
  })
})

describe('the client reads a backlog in pages', () => {
  it('one page per backlog() call, given the cursor of the page before, and every page through backlogPages(), one request each', async () => {
    const client = withToken()
    for (let n = 0; n < 5; n++) await client.dispatch({ ...note(n), recipients: ['dot'] })

    const first = await client.backlog('dot', { limit: 2 })
    const second = await client.backlog('dot', { limit: 2, cursor: first.cursor })
    const { answers, requests } = await counted([
      async () => {
        const pages = []
        for await (const page of client.backlogPages('dot', { limit: 2 })) pages.push(page.messages.map((message) => (message.d as { n: number }).n))
        return pages
      },
    ])

    expect([first, second].map(({ count, total, truncated }) => ({ count, total, truncated }))).toEqual([
      { count: 2, total: 5, truncated: true },
      { count: 2, total: 5, truncated: true },
    ])
    expect({ answers, requests }).toEqual({ answers: [[[0, 1], [2, 3], [4]]], requests: 3 })
  })

  it('rejects the next page with status 409, naming cursor, once a login delivered the backlog since', async () => {
    const client = withToken()
    for (let n = 0; n < 3; n++) await client.dispatch({ ...note(n), recipients: ['eve'] })
    const first = await client.backlog('eve', { limit: 1 })
    const eve = open(await connectMesaClient(served.mesa.url, 'eve'))
    await eve.waitForMessages(3)

    expect(await endpointFailureOf(client.backlog('eve', { cursor: first.cursor }))).toMatchObject({
      status: 409,
      errorName: 'BacklogChangedError',
      field: 'cursor',
    })
  })
})

describe('the client rejects a question with a DispatchEndpointError', () => {
  it('naming the field of a 400', async () => {
    expect(await endpointFailureOf(withToken().presence(['a', '*']))).toEqual({
      name: 'DispatchEndpointError',
      message: "recipients[1] must name a client: '*' means every client in a dispatch, and names none",
      status: 400,
      errorName: 'ValidationError',
      field: 'recipients[1]',
      retryAfter: undefined,
      outcome: 'none',
      attempts: 1,
      idempotencyKey: undefined,
    })
    expect(await endpointFailureOf(withToken().backlog({} as never))).toMatchObject({ status: 400, field: 'recipient' })
  })

  it('with status 401 for a wrong token', async () => {
    const client = createDispatchClient({ endpoint: served.endpoint.url, token: 'not-the-token' })
    for (const call of [client.presence(['a']), client.connectedCount(), client.backlog('a'), client.clearBacklog(['a'])]) {
      expect(await endpointFailureOf(call)).toMatchObject({ status: 401, errorName: 'AuthenticationError' })
    }
  })

  it('with Retry-After, after waiting it twice, when the endpoint cannot reach Redis, and status 0 when nothing listens', async () => {
    const cut = open(await serveEndpoint(new Dispatcher({ url: `http://127.0.0.1:${await freePort()}`, token: 'redis-token', retries: 0 })))
    const { sleep, waits } = recordedWaits()
    const client = createDispatchClient({ endpoint: cut.url, token: ENDPOINT_TOKEN, sleep })
    const down = `http://127.0.0.1:${await freePort()}`
    expect(await endpointFailureOf(client.clearBacklog(['a']))).toEqual({
      name: 'DispatchEndpointError',
      message: 'the dispatch endpoint cannot reach Redis right now; nothing was applied; retry later',
      status: 503,
      errorName: 'RedisUnavailableError',
      field: undefined,
      retryAfter: 5,
      outcome: 'none',
      attempts: 3,
      idempotencyKey: CLIENT_KEY,
    })
    expect(waits).toEqual([5000, 5000])
    expect(await endpointFailureOf(createDispatchClient({ endpoint: down, token: ENDPOINT_TOKEN, sleep }).backlog('a'))).toMatchObject({
      status: 0,
      outcome: 'none',
      attempts: 3,
    })
  })

  it('when a 200 carries no answer of the kind asked for', async () => {
    const odd: FetchServer = open(await serveFetch(async () => Response.json({ ok: true, result: { servers: 1 } })))
    const client = createDispatchClient({ endpoint: odd.url, token: ENDPOINT_TOKEN })
    expect(await endpointFailureOf(client.backlog('a'))).toMatchObject({ message: 'the dispatch endpoint answered 200 with no backlog result', status: 200 })
    expect(await endpointFailureOf(client.connectedCount())).toMatchObject({
      message: 'the dispatch endpoint answered 200 with no presence result',
      status: 200,
    })
  })
})
