import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { signRequest } from '../src/client/index'
import { type App, createAppFromEnv } from '../src/http/app'
import { createLogger } from '../src/observe/logger'
import type { HttpCall } from './support/events'
import { fetchTransport, type HttpReply } from './support/http-transports'
import { answerProblems, componentSchemaProblems, loadOpenApi, type OpenApiDocument, readAppRoutes, requestProblems } from './support/openapi'
import { awayFromWindowEnd } from './support/rate-window'
import { ROOT } from './support/serverless-cli'
import { useStack } from './support/stack'

// docs/openapi.yaml against the code: a valid OpenAPI 3.1 file, exactly the app's routes, and every real answer
// below, from the real app on a real redis-server (through the local Upstash gateway), matching it.
const stack = useStack()
const TOKEN = 'openapi-test-dispatch-token'
const SECRET = 'openapi-test-signing-secret'
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']
const quiet = { logger: createLogger({}, () => {}) }

let document: OpenApiDocument
let loaded: Awaited<ReturnType<typeof loadOpenApi>>
beforeAll(async () => {
  loaded = await loadOpenApi()
  document = loaded.document
})

describe('docs/openapi.yaml', () => {
  it('is a valid OpenAPI 3.1 description', () => {
    expect({ valid: loaded.valid, errors: loaded.errors, version: loaded.version }).toEqual({ valid: true, errors: undefined, version: '3.1' })
  })

  it('holds only schemas that compile in strict JSON Schema 2020-12, so a misspelt keyword cannot pass for an annotation', () => {
    expect(componentSchemaProblems(document)).toEqual([])
  })

  it("describes exactly the routes and methods of src/http/app.ts's routes table", () => {
    const described = Object.fromEntries(
      Object.entries(document.paths).map(([path, item]) => [
        path,
        Object.keys(item)
          .map((key) => key.toUpperCase())
          .filter((key) => METHODS.includes(key)),
      ]),
    )
    const sorted = (routes: Record<string, string[]>) => Object.fromEntries(Object.entries(routes).map(([path, methods]) => [path, [...methods].sort()]))
    expect(sorted(described)).toEqual(sorted(readAppRoutes()))
  })

  it("carries the package's version", () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }
    expect(document.info.version).toBe(version)
  })
})

const bearer = { authorization: `Bearer ${TOKEN}` }
/** A key that may only dispatch, and one whose whole budget a test spends: each gets its own status below. */
const NOTIFIER = { name: 'notifier', token: 'openapi-notifier-token-01', scopes: ['dispatch'] }
const LIMITED = { name: 'limited', token: 'openapi-limited-token-001', scopes: ['dispatch', 'presence'], rateLimit: { requests: 1, windowSeconds: 86_400 } }
const post = (path: string, body: unknown, headers: Record<string, string> = bearer): HttpCall => ({
  method: 'POST',
  path,
  headers,
  body: typeof body === 'string' ? body : JSON.stringify(body),
})
const note = (recipients: unknown[] = ['online-user', 'offline-user']) => ({ message: { d: { n: 1 }, t: 'NOTE', o: { sync: true } }, recipients })
const disconnect = { event: 'DISCONNECT_CLIENT', recipients: ['nobody'] }

/** Every status a call below was answered with and the description allowed, to show at the end which were met. */
const seen = new Set<number>()

/** Sends a call to an app, and returns its status and what in the answer (and, when accepted, the request) the description refuses. */
async function check(app: App, call: HttpCall): Promise<{ status: number; problems: string[] }> {
  const reply: HttpReply = await fetchTransport('app', (request) => app.fetch(request)).send(call)
  const accepted = reply.status < 300 && call.body !== undefined ? requestProblems(document, call.method, call.path, JSON.parse(call.body)) : []
  const problems = [...answerProblems(document, call.method, call.path, reply), ...accepted]
  if (problems.length === 0) seen.add(reply.status)
  return { status: reply.status, problems }
}
const matches = (status: number) => ({ status, problems: [] })

describe("the app's real answers, held to docs/openapi.yaml", () => {
  let app: App
  let broken: App
  let small: App
  let namespace: string
  beforeAll(async () => {
    namespace = stack.freshNamespace()
    const env = {
      ...stack.functionEnv(namespace),
      DISPATCH_TOKEN: TOKEN,
      DISPATCH_SIGNING_SECRET: SECRET,
      DISPATCH_KEYS: JSON.stringify([NOTIFIER, LIMITED]),
      MAX_BODY_BYTES: '4096',
      MAX_BATCH: '3',
    }
    app = createAppFromEnv(env, quiet)
    await stack.admin.sadd(`connected_clients_${namespace}`, 'online-user')
    // Mesa's online set holding a string instead of a set: Redis refuses every sync check there (WRONGTYPE).
    const brokenNamespace = stack.freshNamespace()
    await stack.admin.set(`connected_clients_${brokenNamespace}`, 'not a set')
    broken = createAppFromEnv({ ...env, MESA_NAMESPACE: brokenNamespace }, quiet)
    small = createAppFromEnv({ ...env, MAX_BODY_BYTES: '131072', MAX_REQUEST_BYTES: '65536', MAX_BACKLOG_READ_BYTES: '32' }, quiet)
    await stack.admin.hset(`undelivered_messages_${namespace}`, 'paged', '[{"op":0,"d":1},{"op":0,"d":2},{"op":0,"d":3}]')
  })

  /** The cursor of the first page of `id`'s backlog, of one message. */
  const firstCursor = async (id: string) => {
    const reply = await app.fetch(
      new Request('https://dispatch.example.com/backlog', { method: 'POST', headers: bearer, body: JSON.stringify({ recipient: id, limit: 1 }) }),
    )
    return ((await reply.json()) as { result: { cursor: string } }).result.cursor
  }

  const cases: Record<string, { app: () => App; call: () => HttpCall | Promise<HttpCall>; status: number }> = {
    'GET /health': { app: () => app, call: () => ({ method: 'GET', path: '/health' }), status: 200 },
    'HEAD /health, without a body': { app: () => app, call: () => ({ method: 'HEAD', path: '/health' }), status: 200 },
    'a dispatch with the bearer token': { app: () => app, call: () => post('/dispatch', note()), status: 200 },
    'a signed dispatch with an Idempotency-Key': {
      app: () => app,
      call: async () => {
        const body = JSON.stringify(note())
        const idempotencyKey = crypto.randomUUID()
        const signature = await signRequest(SECRET, { keyId: 'default', method: 'POST', path: '/dispatch', body, idempotencyKey })
        return post('/dispatch', body, { 'x-mesa-signature': signature, 'idempotency-key': idempotencyKey })
      },
      status: 200,
    },
    'a duplicate dispatch': { app: () => app, call: () => post('/dispatch', { ...note(), id: 'openapi-once' }), status: 200 },
    'a batch of a message and an event': { app: () => app, call: () => post('/dispatch', { dispatches: [note(['*']), disconnect] }), status: 200 },
    'a presence question': { app: () => app, call: () => post('/presence', { recipients: ['online-user', 7, 'offline-user'] }), status: 200 },
    'a connected count': { app: () => app, call: () => post('/presence', {}), status: 200 },
    'a backlog': { app: () => app, call: () => post('/backlog', { recipient: 'offline-user' }), status: 200 },
    'the next page of a backlog': {
      app: () => app,
      call: async () => post('/backlog', { recipient: 'paged', cursor: await firstCursor('paged'), limit: 1 }),
      status: 200,
    },
    'the next page of a backlog cleared since': {
      app: () => app,
      call: async () => {
        await stack.admin.hset(`undelivered_messages_${namespace}`, 'cleared', '[{"op":0,"d":1},{"op":0,"d":2}]')
        const cursor = await firstCursor('cleared')
        await stack.admin.hdel(`undelivered_messages_${namespace}`, 'cleared')
        return post('/backlog', { recipient: 'cleared', cursor })
      },
      status: 409,
    },
    'a backlog over MAX_BACKLOG_READ_BYTES': { app: () => small, call: () => post('/backlog', { recipient: 'paged' }), status: 422 },
    'a clear': {
      app: () => app,
      call: () => post('/backlog/clear', { recipients: ['offline-user', 0] }, { ...bearer, 'idempotency-key': 'clear-1' }),
      status: 200,
    },
    'a batch of which one item Redis refused': { app: () => broken, call: () => post('/dispatch', { dispatches: [note(), disconnect] }), status: 207 },
    'a body that is not JSON': { app: () => app, call: () => post('/dispatch', '{"message":'), status: 400 },
    'an unknown field in a question': { app: () => app, call: () => post('/backlog', { recipients: ['a'] }), status: 400 },
    'an Idempotency-Key of 253 characters': {
      app: () => app,
      call: () => post('/dispatch', note(), { ...bearer, 'idempotency-key': 'k'.repeat(253) }),
      status: 400,
    },
    'no credentials': { app: () => app, call: () => post('/dispatch', note(), {}), status: 401 },
    'a tampered signed body': {
      app: () => app,
      call: async () =>
        post('/backlog/clear', '{"recipients":["b"]}', {
          'x-mesa-signature': await signRequest(SECRET, { keyId: 'default', method: 'POST', path: '/backlog/clear', body: '{"recipients":["a"]}' }),
        }),
      status: 401,
    },
    'a key without the scope': {
      app: () => app,
      call: () => post('/backlog/clear', { recipients: ['a'] }, { authorization: `Bearer ${NOTIFIER.token}` }),
      status: 403,
    },
    'a path that is not a route': { app: () => app, call: () => ({ method: 'GET', path: '/nope' }), status: 404 },
    'a path below a route': { app: () => app, call: () => post('/backlog/show', {}), status: 404 },
    'GET /dispatch': { app: () => app, call: () => ({ method: 'GET', path: '/dispatch', headers: bearer }), status: 405 },
    'HEAD /presence': { app: () => app, call: () => ({ method: 'HEAD', path: '/presence', headers: bearer }), status: 405 },
    'a body over MAX_BODY_BYTES': { app: () => app, call: () => post('/dispatch', `{"message":{"d":"${'x'.repeat(5000)}`), status: 413 },
    'a question over MAX_BODY_BYTES': { app: () => app, call: () => post('/presence', `{"recipients":["${'x'.repeat(5000)}`), status: 413 },
    'a dispatch needing a Redis request over MAX_REQUEST_BYTES': {
      app: () => small,
      call: () => post('/dispatch', { message: { d: 'x'.repeat(50_000) }, recipients: ['a'] }),
      status: 413,
    },
    'a batch whose every item needs a Redis request over MAX_REQUEST_BYTES': {
      app: () => small,
      call: () => post('/dispatch', { dispatches: [{ message: { d: 'x'.repeat(50_000) } }, { message: { d: 'y'.repeat(50_000) } }] }),
      status: 413,
    },
    'a dispatch Redis refused': { app: () => broken, call: () => post('/dispatch', note()), status: 502 },
    'a batch Redis refused whole': { app: () => broken, call: () => post('/dispatch', { dispatches: [note(), note()] }), status: 502 },
    'a presence question Redis refused': { app: () => broken, call: () => post('/presence', { recipients: ['a'] }), status: 502 },
  }

  it.each(Object.entries(cases))('%s', async (_, testCase) => {
    const call = await testCase.call()
    expect(await check(testCase.app(), call)).toEqual(matches(testCase.status))
  })

  it('answers 429 with Retry-After as described, for one dispatch, a batch and a question, once a key has spent its window', async () => {
    await awayFromWindowEnd(86_400)
    const limited = { authorization: `Bearer ${LIMITED.token}` }
    await check(app, post('/presence', { recipients: ['a'] }, limited))
    const calls = [post('/dispatch', note(), limited), post('/dispatch', { dispatches: [note(), disconnect] }, limited), post('/presence', {}, limited)]
    const replies = []
    for (const call of calls) {
      const { status, problems } = await check(app, call)
      replies.push({ status, problems })
    }
    expect(replies).toEqual(calls.map(() => matches(429)))
  })

  it('answers the same call again as a duplicate, still as described', async () => {
    const call = post('/dispatch', { ...note(), id: 'openapi-twice' })
    expect([await check(app, call), await check(app, call)]).toEqual([matches(200), matches(200)])
  })

  it('answers every described route and method, and 405 for every other method of a route', async () => {
    const answered: Record<string, string[]> = {}
    for (const path of Object.keys(document.paths)) {
      for (const method of METHODS) {
        const reply = await app.fetch(new Request(`https://dispatch.example.com${path}`, { method, headers: bearer }))
        if (reply.status !== 405) answered[path] = [...(answered[path] ?? []), method]
      }
    }
    expect(answered).toEqual(readAppRoutes())
  })

  it('answers 503 as described when the app is misconfigured, or has no credentials to check', async () => {
    const misconfigured = createAppFromEnv({ DISPATCH_TOKEN: TOKEN }, quiet)
    const unguarded = createAppFromEnv(stack.functionEnv(stack.freshNamespace()), quiet)
    expect([
      await check(misconfigured, post('/dispatch', note())),
      await check(misconfigured, { method: 'GET', path: '/health' }),
      await check(misconfigured, { method: 'HEAD', path: '/health' }),
      await check(unguarded, { method: 'GET', path: '/health' }),
      await check(unguarded, post('/presence', {})),
    ]).toEqual([matches(503), matches(503), matches(503), matches(503), matches(401)])
  })

  it('answers 503 with Retry-After as described while redis-server is stopped', async () => {
    const outage = createAppFromEnv(
      { ...stack.functionEnv(stack.freshNamespace()), DISPATCH_TOKEN: TOKEN, REDIS_RETRIES: '0', REDIS_TIMEOUT_MS: '1000' },
      quiet,
    )
    await stack.redis.stop()
    try {
      const calls = [post('/dispatch', note()), post('/dispatch', { dispatches: [note(), disconnect] }), post('/backlog', { recipient: 'a' })]
      const replies = []
      for (const call of calls) {
        const reply = await fetchTransport('app', (request) => outage.fetch(request)).send(call)
        const problems = answerProblems(document, call.method, call.path, reply)
        if (problems.length === 0) seen.add(reply.status)
        replies.push({ status: reply.status, retryAfter: reply.headers['retry-after'], problems })
      }
      expect(replies).toEqual(calls.map(() => ({ status: 503, retryAfter: '5', problems: [] })))
    } finally {
      await stack.redis.start()
    }
  })

  it('met every status a client can meet above, each held to the description', () => {
    // A case that stops producing its status fails its own test; this names any status no case reaches any more.
    expect([...seen].sort((a, b) => a - b)).toEqual([200, 207, 400, 401, 403, 404, 405, 409, 413, 422, 429, 502, 503])
  })
})
