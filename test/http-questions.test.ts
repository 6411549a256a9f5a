import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signRequest } from '../src/client/index'
import { createApp } from '../src/http/app'
import { type BacklogResult, Dispatcher } from '../src/index'
import { DEFAULT_MAX_BACKLOG_PAGE_BYTES } from '../src/limits'
import { createLogger } from '../src/observe/logger'
import { useCleanup } from './support/cleanup'
import { startEdgeWorker } from './support/edge-worker'
import type { HttpCall } from './support/events'
import { fetchTransport, type HttpReply, type HttpTransport, lambdaTransports } from './support/http-transports'
import { largeBacklog } from './support/large-backlog'
import { connectMesaClient } from './support/mesa-client'
import { type MesaServer, startMesaServer } from './support/mesa-server'
import { answerProblems, loadOpenApi, type OpenApiDocument } from './support/openapi'
import { freePort } from './support/ports'
import { useStack } from './support/stack'

// POST /presence, /backlog and /backlog/clear through every way in (the Lambda adapter with each event shape, and
// the edge bundle in workerd), against a real Mesa 1.5.8 server and its real WebSocket clients.
const stack = useStack()
const open = useCleanup()
const TOKEN = 'questions-test-dispatch-token'
const SECRET = 'questions-test-signing-secret'
const NAMESPACE = 'httpquestions'
const NAMES = ['Lambda REST API (payload 1.0)', 'Lambda HTTP API (payload 2.0)', 'Lambda Function URL', 'edge worker (workerd)']

const transports: HttpTransport[] = []
/** docs/openapi.yaml, which every answer below must match as well. */
let openapi: OpenApiDocument
let closeEdge: () => Promise<void> = async () => {}
let mesa: MesaServer

beforeAll(async () => {
  openapi = (await loadOpenApi()).document
  const env = { ...stack.functionEnv(NAMESPACE), DISPATCH_TOKEN: TOKEN, DISPATCH_SIGNING_SECRET: SECRET, MAX_BODY_BYTES: '4096', MAX_RECIPIENTS: '3' }
  Object.assign(process.env, env)
  const { handler } = await import('../functions/http')
  const edge = await startEdgeWorker(env)
  closeEdge = edge.close
  transports.push(...lambdaTransports(handler), fetchTransport('edge worker (workerd)', edge.fetch))
  mesa = await startMesaServer({ redisUrl: stack.redis.url, namespace: NAMESPACE })
}, 60_000)
afterAll(async () => {
  await closeEdge()
  await mesa.close()
})

const bearer = { authorization: `Bearer ${TOKEN}` }
const post = (path: string, body: unknown, headers: Record<string, string> = bearer): HttpCall => ({
  method: 'POST',
  path,
  headers,
  body: typeof body === 'string' ? body : JSON.stringify(body),
})
const signed = async (path: string, body: unknown) => {
  const text = JSON.stringify(body)
  return post(path, text, { 'x-mesa-signature': await signRequest(SECRET, { keyId: 'default', method: 'POST', path, body: text }) })
}
const refused = (status: number, name: string, message: string, field?: string) => ({
  status,
  body: { ok: false, error: { name, message, ...(field ? { field } : {}), outcome: 'none' } },
})
/** The bytes of a backlog holding the note `{ n: 1 }` alone. */
const ONE_NOTE = Buffer.byteLength('[{"op":0,"d":{"n":1},"t":"NOTE"}]')
/** What Lambda lets a function answer a synchronous invocation with: 6 MB, over which API Gateway answers 502. */
const LAMBDA_RESPONSE_BYTES = 6 * 1024 * 1024
const ok = (result: unknown) => ({ status: 200, body: { ok: true, result } })
/** A backlog that fits in one page: every message in it, none after. */
const onePage = (messages: unknown[], bytes: number) => ({ messages, count: messages.length, bytes, total: messages.length, cursor: null, truncated: false })

const cases: Record<string, { call: () => HttpCall; status: number; body: unknown; headers?: Record<string, string> }> = {
  'answers numbers as numbers and strings as strings, in the order asked': {
    call: () => post('/presence', { recipients: [7, '7', 7] }),
    ...ok({ online: [], offline: [7, '7', 7] }),
  },
  'answers an empty backlog': { call: () => post('/backlog', { recipient: 'nobody' }), ...ok(onePage([], 0)) },
  'answers the first page for a null cursor': { call: () => post('/backlog', { recipient: 'nobody', cursor: null, limit: 5 }), ...ok(onePage([], 0)) },
  'answers a clear of nothing': {
    call: () => post('/backlog/clear', { recipients: ['nobody', 0] }),
    ...ok({
      cleared: [
        { recipient: 'nobody', messages: 0, bytes: 0 },
        { recipient: 0, messages: 0, bytes: 0 },
      ],
      duplicate: false,
    }),
  },
  'refuses a question without credentials': {
    call: () => post('/presence', {}, {}),
    ...refused(401, 'AuthenticationError', 'send Authorization: Bearer <token> or a signed x-mesa-signature header'),
  },
  'refuses a signed clear whose timestamp is outside the window': {
    call: () => post('/backlog/clear', '{"recipients":["b"]}', { 'x-mesa-signature': `keyid=default,t=1,v2=${'0'.repeat(64)}` }),
    ...refused(401, 'AuthenticationError', 'the signature timestamp is more than 300 seconds from now'),
  },
  'answers 405 for GET /presence, naming POST': {
    call: () => ({ method: 'GET', path: '/presence', headers: bearer }),
    ...refused(405, 'MethodNotAllowed', 'use POST'),
    headers: { allow: 'POST' },
  },
  'answers 405 for GET /backlog/clear': {
    call: () => ({ method: 'GET', path: '/backlog/clear', headers: bearer }),
    ...refused(405, 'MethodNotAllowed', 'use POST'),
  },
  'answers 404 for a path below /backlog that is not a route': { call: () => post('/backlog/show', {}), ...refused(404, 'NotFound', 'no such route') },
  'refuses an unknown field, naming it': {
    call: () => post('/presence', { recipient: ['a'] }),
    ...refused(400, 'ValidationError', 'recipient is not a known field', 'recipient'),
  },
  'refuses a body that is not an object': {
    call: () => post('/backlog/clear', '["a"]'),
    ...refused(400, 'ValidationError', 'body must be a JSON object', 'body'),
  },
  'refuses a body that is not JSON': { call: () => post('/backlog', '{"recipient":'), ...refused(400, 'ValidationError', 'body is not valid JSON', 'body') },
  'refuses a backlog question without its recipient': {
    call: () => post('/backlog', {}),
    ...refused(400, 'ValidationError', 'recipient is required', 'recipient'),
  },
  'refuses a cursor that is not one, naming it': {
    call: () => post('/backlog', { recipient: 'a', cursor: 'page-2' }),
    ...refused(400, 'ValidationError', 'cursor must be the cursor a previous page of this backlog answered, or null for the first page', 'cursor'),
  },
  'refuses a limit that is not a whole number of at least 1, naming it': {
    call: () => post('/backlog', { recipient: 'a', limit: '10' }),
    ...refused(400, 'ValidationError', 'limit must be a whole number of at least 1', 'limit'),
  },
  'refuses a clear without recipients': {
    call: () => post('/backlog/clear', {}),
    ...refused(400, 'ValidationError', 'recipients is required', 'recipients'),
  },
  "refuses '*', which names no one client": {
    call: () => post('/backlog/clear', { recipients: ['a', '*'] }),
    ...refused(400, 'ValidationError', "recipients[1] must name a client: '*' means every client in a dispatch, and names none", 'recipients[1]'),
  },
  'refuses a recipient that is not a string or number': {
    call: () => post('/backlog', { recipient: null }),
    ...refused(400, 'ValidationError', 'recipient must be a string or a finite number, got null', 'recipient'),
  },
  'refuses a lone surrogate': {
    call: () => post('/presence', '{"recipients":["a","\\ud800"]}'),
    ...refused(400, 'ValidationError', 'recipients[1] must be well-formed UTF-16, without a lone surrogate', 'recipients[1]'),
  },
  'refuses more recipients than MAX_RECIPIENTS': {
    call: () => post('/presence', { recipients: ['a', 'b', 'c', 'd'] }),
    ...refused(400, 'ValidationError', 'recipients must name at most 3 recipients, got 4', 'recipients'),
  },
  'refuses a body over MAX_BODY_BYTES before parsing it': {
    call: () => post('/backlog/clear', `{"recipients":["${'x'.repeat(5000)}`),
    ...refused(413, 'PayloadTooLargeError', 'request body must be at most 4096 bytes'),
  },
  'refuses an Idempotency-Key of 253 characters on a clear': {
    call: () => post('/backlog/clear', { recipients: ['a'] }, { ...bearer, 'idempotency-key': 'k'.repeat(253) }),
    ...refused(400, 'ValidationError', 'Idempotency-Key must be 1 to 252 characters', 'Idempotency-Key'),
  },
}

describe.each(NAMES)('%s', (name) => {
  const send = (call: HttpCall) => transports.find((each) => each.name === name)!.send(call)
  // A name per entry point, so that the entry points do not meet in Mesa's set and hash.
  const tag = NAMES.indexOf(name)

  it.each(Object.entries(cases))('%s', async (_, testCase) => {
    const call = testCase.call()
    const reply = await send(call)
    expect({ status: reply.status, body: reply.body }).toEqual({ status: testCase.status, body: testCase.body })
    expect(answerProblems(openapi, call.method, call.path, reply)).toEqual([])
    for (const [header, value] of Object.entries(testCase.headers ?? {})) expect(reply.headers[header]).toBe(value)
  })

  it('answers POST /presence as the real Mesa clients log in and disconnect, in one Redis request each', async () => {
    const alice = `alice-${tag}`
    const ask = { recipients: [alice, 70 + tag, `${70 + tag}`] }
    const client = await connectMesaClient(mesa.url, alice)
    open(await connectMesaClient(mesa.url, 70 + tag))
    await send(post('/presence', {})) // loads the script into Redis's cache, if no test before did
    const answers: unknown[] = []
    const requests = await stack.requestsDuring(async () => {
      answers.push((await send(post('/presence', ask))).body, (await send(post('/presence', {}))).body)
      await client.close()
      answers.push((await send(post('/presence', ask))).body)
    })

    expect({ answers, requests }).toEqual({
      answers: [
        { ok: true, result: { online: [alice, 70 + tag, `${70 + tag}`], offline: [] } },
        { ok: true, result: { connected: 2 } },
        { ok: true, result: { online: [70 + tag, `${70 + tag}`], offline: [alice] } },
      ],
      requests: 3,
    })
  })

  it('shows a backlog as Mesa redelivers it, and clears it so that the next login redelivers nothing', async () => {
    const carol = `carol-${tag}`
    for (const n of [1, 2])
      expect((await send(post('/dispatch', { message: { d: { n }, t: 'NOTE', o: { sync: true } }, recipients: [carol] }))).status).toBe(200)
    const stored = (await stack.admin.hget(`undelivered_messages_${NAMESPACE}`, carol)) ?? ''

    const shown = await send(post('/backlog', { recipient: carol }))
    const cleared = await send(post('/backlog/clear', { recipients: [carol] }))
    const again = await send(post('/backlog', { recipient: carol }))
    const client = open(await connectMesaClient(mesa.url, carol))
    await client.expectNoMoreMessages(300)

    const messages = [1, 2].map((n) => ({ op: 0, d: { n }, t: 'NOTE' }))
    expect([shown.body, cleared.body, again.body]).toEqual([
      { ok: true, result: onePage(messages, Buffer.byteLength(stored)) },
      { ok: true, result: { cleared: [{ recipient: carol, messages: 2, bytes: Buffer.byteLength(stored) }], duplicate: false } },
      { ok: true, result: onePage([], 0) },
    ])
  })

  it('pages a 6.7 MB backlog another writer stored: every answer under 1 MiB, every message once and in order, the last page saying so', async () => {
    const frank = `frank-${tag}`
    const backlog = largeBacklog(6_700_000)
    await stack.admin.hset(`undelivered_messages_${NAMESPACE}`, frank, backlog.value)
    const replies: HttpReply[] = []
    let cursor: string | null = null
    do {
      const reply = await send(post('/backlog', { recipient: frank, cursor }))
      replies.push(reply)
      cursor = reply.status === 200 ? (reply.body as { result: BacklogResult }).result.cursor : null
    } while (cursor !== null)
    const pages = replies.map((reply) => (reply.body as { result: BacklogResult }).result)

    expect(replies.map((reply) => [reply.status, reply.bodyBytes <= DEFAULT_MAX_BACKLOG_PAGE_BYTES, reply.responseBytes < LAMBDA_RESPONSE_BYTES])).toEqual(
      replies.map(() => [200, true, true]),
    )
    expect(pages.flatMap((page) => page.messages)).toEqual(backlog.messages)
    expect(pages.map((page) => [page.total, page.bytes, page.truncated])).toEqual(
      pages.map((_, index) => [backlog.messages.length, Buffer.byteLength(backlog.value), index < pages.length - 1]),
    )
    expect(pages.at(-1)!.cursor).toBeNull()
    for (const reply of replies) expect(answerProblems(openapi, 'POST', '/backlog', reply)).toEqual([])
  }, 120_000)

  it('answers 409 naming cursor for the next page of a backlog cleared since', async () => {
    const gina = `gina-${tag}`
    for (const n of [1, 2]) await send(post('/dispatch', { message: { d: { n }, t: 'NOTE' }, recipients: [gina] }))
    const first = (await send(post('/backlog', { recipient: gina, limit: 1 }))).body as { result: BacklogResult }
    await send(post('/backlog/clear', { recipients: [gina] }))
    await send(post('/dispatch', { message: { d: { n: 3 }, t: 'NOTE' }, recipients: [gina] }))
    const call = post('/backlog', { recipient: gina, cursor: first.result.cursor })
    const next = await send(call)

    expect({ status: next.status, body: next.body }).toEqual(
      refused(
        409,
        'BacklogChangedError',
        'the backlog changed since this cursor was given: its first 1 messages are no longer the ones the pages before listed (a login delivered it, a clear removed it, or the caps dropped its oldest messages); read it again from the first page',
        'cursor',
      ),
    )
    expect(answerProblems(openapi, call.method, call.path, next)).toEqual([])
  })

  it('binds a signed request to its route: a signed presence body replayed to /backlog/clear is refused, a signed clear replayed removes nothing', async () => {
    const dave = `dave-${tag}`
    await send(post('/dispatch', { message: { d: { n: 1 }, t: 'NOTE' }, recipients: [dave] }))
    const question = await signed('/presence', { recipients: [dave] })
    const clear = await signed('/backlog/clear', { recipients: [dave, 'nobody'] })

    const replies = [question, question, { ...question, path: '/backlog/clear' }, clear, clear]
    const bodies: unknown[] = []
    for (const call of replies) bodies.push((await send(call)).body)

    const presence = { ok: true, result: { online: [], offline: [dave] } }
    const none = (ids: string[]) => ids.map((recipient) => ({ recipient, messages: 0, bytes: 0 }))
    expect(bodies).toEqual([
      presence,
      presence,
      { ok: false, error: { name: 'AuthenticationError', message: 'the signature does not match the request', outcome: 'none' } },
      { ok: true, result: { cleared: [{ recipient: dave, messages: 1, bytes: ONE_NOTE }, none(['nobody'])[0]], duplicate: false } },
      { ok: true, result: { cleared: none([dave, 'nobody']), duplicate: true } },
    ])
  })

  it('clears once per Idempotency-Key', async () => {
    const erin = `erin-${tag}`
    const key = { ...bearer, 'idempotency-key': `clear-${tag}-${crypto.randomUUID()}` }
    await send(post('/dispatch', { message: { d: { n: 1 }, t: 'NOTE' }, recipients: [erin] }))
    const first = (await send(post('/backlog/clear', { recipients: [erin] }, key))).body
    await send(post('/dispatch', { message: { d: { n: 2 }, t: 'NOTE' }, recipients: [erin] }))
    const repeat = (await send(post('/backlog/clear', { recipients: [erin] }, key))).body

    expect([first, repeat]).toEqual([
      { ok: true, result: { cleared: [{ recipient: erin, messages: 1, bytes: ONE_NOTE }], duplicate: false } },
      { ok: true, result: { cleared: [{ recipient: erin, messages: 0, bytes: 0 }], duplicate: true } },
    ])
    expect((await send(post('/backlog', { recipient: erin }))).body).toMatchObject({ result: { count: 1 } })
  })
})

describe('the question routes when Redis fails', () => {
  const TOKEN_HEADER = { authorization: `Bearer ${TOKEN}` }
  const routes: Array<[string, unknown]> = [
    ['/presence', { recipients: ['a'] }],
    ['/presence', {}],
    ['/backlog', { recipient: 'a' }],
    ['/backlog/clear', { recipients: ['a'] }],
  ]
  const answer = async (app: { fetch(request: Request): Promise<Response> }, path: string, body: unknown) => {
    const response = await app.fetch(new Request(`https://x${path}`, { method: 'POST', headers: TOKEN_HEADER, body: JSON.stringify(body) }))
    return { status: response.status, retryAfter: response.headers.get('retry-after'), body: await response.json() }
  }

  it('answers 503 with Retry-After when Redis is unreachable, and logs no id', async () => {
    const lines: string[] = []
    const dispatcher = new Dispatcher({ url: `http://127.0.0.1:${await freePort()}`, token: 't', retries: 0 })
    const app = createApp({ dispatcher, auth: { token: TOKEN }, logger: createLogger({}, (line) => lines.push(line)) })
    const unreachable = {
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
    }
    for (const [path, body] of routes) expect(await answer(app, path, body)).toEqual(unreachable)
    expect(lines).toHaveLength(routes.length)
  })

  it('answers 502 when Redis refuses the script, having changed nothing', async () => {
    const namespace = stack.freshNamespace()
    await stack.admin.set(`connected_clients_${namespace}`, 'not a set')
    await stack.admin.set(`undelivered_messages_${namespace}`, 'not a hash')
    const app = createApp({ dispatcher: stack.dispatcher({ namespace }), auth: { token: TOKEN }, logger: createLogger({}, () => {}) })
    const refusedByRedis = {
      status: 502,
      retryAfter: null,
      body: { ok: false, error: { name: 'RedisCommandError', message: 'Redis refused the request; nothing was applied', outcome: 'none' } },
    }
    for (const [path, body] of routes) expect(await answer(app, path, body)).toEqual(refusedByRedis)
    expect(await stack.admin.get(`undelivered_messages_${namespace}`)).toBe('not a hash')
  })
})
