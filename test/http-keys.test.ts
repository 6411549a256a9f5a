import { beforeAll, describe, expect, it } from 'vitest'
import { serveFetch } from '../dev/serve-fetch'
import { createDispatchClient, signRequest } from '../src/client/index'
import type { ApiKey } from '../src/http/api-keys'
import { type BuiltHttpInstance, useBuiltHttp } from './support/built-http'
import type { HttpCall } from './support/events'
import { useStack } from './support/stack'

// Named keys through the built http function (the esbuild bundle serverless deploys), against a real redis-server
// behind the Upstash gateway: scopes, the key in logs and metrics, and signatures that cover the whole request.
const stack = useStack()
const built = useBuiltHttp()
const ALL = ['dispatch', 'presence', 'backlog:read', 'backlog:clear'] as ApiKey['scopes']
const NOTIFIER: ApiKey = { name: 'notifier', token: 'notifier-token-0123456789', scopes: ['dispatch'] }
const SUPPORT: ApiKey = { name: 'support', token: 'support-token-0123456789', signingSecret: 'support-signing-secret-0123', scopes: ALL }
const HOOKS: ApiKey = { name: 'hooks', signingSecret: 'hooks-signing-secret-01234', scopes: ['dispatch'] }

let namespace: string
let http: BuiltHttpInstance
beforeAll(async () => {
  namespace = stack.freshNamespace()
  http = await built.start({ ...stack.functionEnv(namespace), DISPATCH_KEYS: JSON.stringify([NOTIFIER, SUPPORT, HOOKS]) })
})

const hash = () => `undelivered_messages_${namespace}`
const post = (path: string, body: unknown, headers: Record<string, string>): HttpCall => ({
  method: 'POST',
  path,
  headers: { 'content-type': 'application/json', ...headers },
  body: typeof body === 'string' ? body : JSON.stringify(body),
})
const bearer = (key: ApiKey) => ({ authorization: `Bearer ${key.token}` })
/** A call signed by `key`, with the Idempotency-Key when given, exactly as the client signs it. */
async function signed(key: ApiKey, path: string, body: unknown, idempotencyKey?: string): Promise<HttpCall> {
  const text = typeof body === 'string' ? body : JSON.stringify(body)
  const signature = await signRequest(key.signingSecret!, { keyId: key.name, method: 'POST', path, body: text, idempotencyKey })
  return post(path, text, { 'x-mesa-signature': signature, ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}) })
}
const note = (recipient: string, n = 1) => ({ message: { d: { n, nonce: crypto.randomUUID() }, t: 'NOTE' }, recipients: [recipient] })
const stored = async (id: string) => JSON.parse((await stack.admin.hget(hash(), id)) ?? '[]').length as number
const refusal = (status: number, name: string, message: string) => ({ status, body: { ok: false, error: { name, message, outcome: 'none' } } })
const answer = async (call: HttpCall) => {
  const reply = await http.send(call)
  return { status: reply.status, body: reply.body }
}

describe('named keys with scopes', () => {
  it('lets notifier dispatch, and answers it 403 on every question, reading and changing nothing', async () => {
    await http.send(post('/dispatch', note('victim'), bearer(SUPPORT)))
    const before = await stack.admin.hget(hash(), 'victim')
    const requests = await stack.requestsDuring(async () => {
      expect([
        await answer(post('/presence', { recipients: ['victim'] }, bearer(NOTIFIER))),
        await answer(post('/backlog', { recipient: 'victim' }, bearer(NOTIFIER))),
        await answer(post('/backlog/clear', { recipients: ['victim'] }, bearer(NOTIFIER))),
      ]).toEqual([
        refusal(403, 'ForbiddenError', 'key "notifier" lacks the scope presence'),
        refusal(403, 'ForbiddenError', 'key "notifier" lacks the scope backlog:read'),
        refusal(403, 'ForbiddenError', 'key "notifier" lacks the scope backlog:clear'),
      ])
    })
    expect({ requests, after: await stack.admin.hget(hash(), 'victim') }).toEqual({ requests: 0, after: before })
    expect((await answer(post('/dispatch', note('victim'), bearer(NOTIFIER)))).status).toBe(200)
  })

  it("checks a signed key's scope once its signature holds: hooks may dispatch, not read", async () => {
    expect([
      (await answer(await signed(HOOKS, '/dispatch', note('hooked')))).status,
      await answer(await signed(HOOKS, '/backlog', { recipient: 'victim' })),
    ]).toEqual([200, refusal(403, 'ForbiddenError', 'key "hooks" lacks the scope backlog:read')])
  })

  it('answers 401 without telling which keys exist: a wrong token, an unknown keyid and a key that cannot sign read alike', async () => {
    const asUnknown = await signed({ ...HOOKS, name: 'nobody' }, '/dispatch', note('x'))
    const asNotifier = await signed({ ...HOOKS, name: 'notifier' }, '/dispatch', note('x'))
    expect([
      await answer(post('/dispatch', note('x'), { authorization: 'Bearer not-a-configured-token' })),
      await answer(asUnknown),
      await answer(asNotifier),
    ]).toEqual([
      refusal(401, 'AuthenticationError', 'the bearer token is missing or wrong'),
      refusal(401, 'AuthenticationError', 'the signature does not match the request'),
      refusal(401, 'AuthenticationError', 'the signature does not match the request'),
    ])
  })

  it('names the key in every log line of a request and as the EMF dimension Key, and counts keys on /health without naming them', async () => {
    const sent = await http.sendLogged(post('/dispatch', note('logged'), bearer(NOTIFIER)))
    const refused = await http.sendLogged(post('/presence', { recipients: ['logged'] }, bearer(NOTIFIER)))
    const unknown = await http.sendLogged(post('/presence', { recipients: ['logged'] }, { authorization: 'Bearer not-a-configured-token' }))
    const logs = (lines: Record<string, unknown>[]) => lines.filter((line) => !('_aws' in line)).map(({ message, key }) => ({ message, key }))
    const emf = sent.lines.find((line) => '_aws' in line) as { Key?: string; _aws: { CloudWatchMetrics: Array<{ Dimensions: string[][] }> } }
    expect({
      sent: logs(sent.lines),
      refused: logs(refused.lines),
      unknown: logs(unknown.lines),
      dimension: emf.Key,
      sets: emf._aws.CloudWatchMetrics[0]!.Dimensions,
      health: (await http.send({ method: 'GET', path: '/health' })).body,
    }).toEqual({
      sent: [{ message: 'dispatch', key: 'notifier' }],
      refused: [{ message: 'request refused', key: 'notifier' }],
      unknown: [{ message: 'request refused', key: undefined }],
      dimension: 'notifier',
      sets: [
        ['Function', 'Outcome'],
        ['Function', 'Outcome', 'Key'],
      ],
      health: { ok: true, service: 'mesa-dispatch', keys: 3 },
    })
  })
})

describe('signatures that cover the whole request', () => {
  it('applies a captured signed dispatch once: replayed with a new Idempotency-Key each time, it is refused', async () => {
    const captured = await signed(SUPPORT, '/dispatch', note('replayed'))
    const first = await answer(captured)
    const replays = []
    for (let i = 0; i < 5; i++) replays.push(await answer({ ...captured, headers: { ...captured.headers, 'idempotency-key': `replay-${i}` } }))
    const exact = await answer(captured)
    expect({
      first: first.status,
      replays,
      exact: (exact.body as { result: { duplicate: boolean } }).result.duplicate,
      copies: await stored('replayed'),
    }).toEqual({
      first: 200,
      replays: Array(5).fill(refusal(401, 'AuthenticationError', 'the signature does not match the request')),
      exact: true,
      copies: 1,
    })
  })

  it('applies a captured signed clear once: replayed with a new Idempotency-Key, it removes nothing', async () => {
    await http.send(post('/dispatch', note('cleared'), bearer(SUPPORT)))
    const captured = await signed(SUPPORT, '/backlog/clear', { recipients: ['cleared'] })
    const first = await answer(captured)
    await http.send(post('/dispatch', note('cleared', 2), bearer(SUPPORT)))
    const replay = await answer({ ...captured, headers: { ...captured.headers, 'idempotency-key': 'evt-42' } })
    expect({ first: first.status, replay, left: await stored('cleared') }).toEqual({
      first: 200,
      replay: refusal(401, 'AuthenticationError', 'the signature does not match the request'),
      left: 1,
    })
  })

  it('binds a signature to its route: a signed /presence body resent to /backlog/clear deletes nothing', async () => {
    await http.send(post('/dispatch', note('victim-a'), bearer(SUPPORT)))
    await http.send(post('/dispatch', note('victim-a', 2), bearer(SUPPORT)))
    const question = await signed(SUPPORT, '/presence', { recipients: ['victim-a'] })
    expect([
      (await answer(question)).status,
      await answer({ ...question, path: '/backlog/clear', headers: { ...question.headers, 'idempotency-key': 'added' } }),
      await answer({ ...question, path: '/backlog/clear' }),
      await stored('victim-a'),
    ]).toEqual([
      200,
      refusal(401, 'AuthenticationError', 'the signature does not match the request'),
      refusal(401, 'AuthenticationError', 'the signature does not match the request'),
      2,
    ])
  })

  it('lets the signing client clear right after asking presence, within the same second, 3 rounds of 3', async () => {
    const server = await serveFetch((request) => http.fetch(request))
    try {
      const client = createDispatchClient({ endpoint: server.url, secret: SUPPORT.signingSecret!, keyId: SUPPORT.name })
      const rounds = []
      for (let round = 0; round < 3; round++) {
        const user = `asked-then-cleared-${round}`
        await client.dispatch(note(user))
        const presence = await client.presence([user])
        const { cleared, duplicate } = await client.clearBacklog([user])
        rounds.push({ offline: presence.offline, removed: cleared[0]!.messages, duplicate, left: await stored(user) })
      }
      expect(rounds).toEqual([0, 1, 2].map((round) => ({ offline: [`asked-then-cleared-${round}`], removed: 1, duplicate: false, left: 0 })))
    } finally {
      await server.close()
    }
  })
})
