import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signRequest } from '../src/client/index'
import { recordChannel } from './support/channel-recorder'
import { useCleanup } from './support/cleanup'
import { type EdgeWorker, startEdgeWorker } from './support/edge-worker'
import { connectMesaClient, type MesaClient } from './support/mesa-client'
import { type MesaServer, mesaKey, startMesaServer } from './support/mesa-server'
import { awayFromWindowEnd, secondsToWindowEnd } from './support/rate-window'
import { GATEWAY_TOKEN, useStack } from './support/stack'
import { readWranglerSample } from './support/wrangler-sample'

// The edge bundle (functions/edge.ts built for platform browser) inside workerd, without nodejs_compat,
// reaching the Upstash gateway on loopback and a real Mesa 1.5.8 server through Redis.
const stack = useStack()
const open = useCleanup()

const TOKEN = 'edge-test-token-0123456789'
const SIGNING_SECRET = 'edge-test-signing-secret-0123456789'
const AUTHORIZED = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }

let namespace: string
let worker: EdgeWorker
beforeAll(async () => {
  namespace = stack.freshNamespace()
  worker = await startEdgeWorker(bindings())
})
afterAll(() => worker?.close())

function bindings(extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...stack.functionEnv(namespace),
    DISPATCH_TOKEN: TOKEN,
    ...extra,
  }
}

async function mesa(): Promise<MesaServer> {
  const server = await startMesaServer({ redisUrl: stack.redis.url, namespace })
  return (
    open({
      close: async () => {
        await server.close()
        expect(server.errors).toEqual([])
      },
    }) && server
  )
}
const client = async (server: MesaServer, token: string): Promise<MesaClient> => open(await connectMesaClient(server.url, token))

const post = (target: EdgeWorker, body: string, headers: Record<string, string>) =>
  target.fetch(new Request('https://edge.example/dispatch', { method: 'POST', headers, body }))
const note = (n: number, recipients: string[]) => JSON.stringify({ message: { op: 0, d: { n }, t: 'NOTE' }, recipients })
const noteFrame = (n: number) => `{"op":0,"d":{"n":${n}},"t":"NOTE"}`

describe('the edge entry inside workerd', () => {
  it('answers GET /health', async () => {
    const response = await worker.fetch(new Request('https://edge.example/health'))

    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8')
    expect(await response.json()).toEqual({ ok: true, service: 'mesa-dispatch', keys: 1 })
  })

  it('delivers a bearer-authenticated dispatch to a real Mesa client as the exact frame', async () => {
    const server = await mesa()
    const [a, b] = [await client(server, 'edge-a'), await client(server, 'edge-b')]

    const body = JSON.stringify({ message: { op: 0, d: { status: 'online', ratio: 0.30000000000000004 }, t: 'STATUS_UPDATE' }, recipients: ['edge-a'] })
    const response = await post(worker, body, AUTHORIZED)

    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({
      ok: true,
      result: {
        servers: 1,
        recipients: ['edge-a'],
        online: ['edge-a'],
        offline: [],
        unstored: [],
        stored: 0,
        dropped: 0,
        duplicate: false,
        excludingIgnored: false,
      },
    })
    await a.waitForMessages(1)
    expect(a.raw).toEqual(['{"op":0,"d":{"status":"online","ratio":0.30000000000000004},"t":"STATUS_UPDATE"}'])
    await b.expectNoMoreMessages(100)
  })

  it('delivers a signed request when DISPATCH_SIGNING_SECRET is bound, and refuses it when not', async () => {
    const signing = open(await startEdgeWorker(bindings({ DISPATCH_SIGNING_SECRET: SIGNING_SECRET })))
    const server = await mesa()
    const a = await client(server, 'edge-signed')
    const body = note(1, ['edge-signed'])
    const headers = {
      'content-type': 'application/json',
      'x-mesa-signature': await signRequest(SIGNING_SECRET, { keyId: 'default', method: 'POST', path: '/dispatch', body }),
    }

    const unsigned = await post(worker, body, headers)
    const signed = await post(signing, body, headers)

    expect(unsigned.status).toBe(401)
    expect(signed.status).toBe(200)
    expect(await signed.json()).toEqual({
      ok: true,
      result: {
        servers: 1,
        recipients: ['edge-signed'],
        online: ['edge-signed'],
        offline: [],
        unstored: [],
        stored: 0,
        dropped: 0,
        duplicate: false,
        excludingIgnored: false,
      },
    })
    await a.waitForMessages(1)
    expect(a.raw).toEqual([noteFrame(1)])
  })

  it('takes DISPATCH_KEYS bound as a secret: a key without the scope gets 403, and one over its rate limit 429 with Retry-After', async () => {
    const keys = [
      { name: 'notifier', token: 'edge-notifier-token-0123', scopes: ['dispatch'] },
      { name: 'limited', token: 'edge-limited-token-01234', scopes: ['dispatch', 'presence'], rateLimit: { requests: 2, windowSeconds: 86_400 } },
    ]
    await awayFromWindowEnd(86_400)
    const keyed = open(await startEdgeWorker({ ...stack.functionEnv(namespace), DISPATCH_KEYS: JSON.stringify(keys) }))
    const ask = async (token: string, path: string, body: unknown) => {
      const response = await keyed.fetch(
        new Request(`https://edge.example${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: JSON.stringify(body) }),
      )
      return { status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as { error?: unknown } }
    }
    const forbidden = await ask('edge-notifier-token-0123', '/presence', { recipients: ['x'] })
    const limited = []
    for (let i = 0; i < 3; i++) limited.push(await ask('edge-limited-token-01234', '/presence', { recipients: ['x'] }))
    const left = secondsToWindowEnd(86_400)
    expect(forbidden).toEqual({
      status: 403,
      retryAfter: null,
      body: { ok: false, error: { name: 'ForbiddenError', message: 'key "notifier" lacks the scope presence', outcome: 'none' } },
    })
    expect(limited.map(({ status }) => status)).toEqual([200, 200, 429])
    expect(Math.abs(Number(limited[2]!.retryAfter) - left)).toBeLessThanOrEqual(1)
    expect(limited[2]!.body.error).toEqual({
      name: 'RateLimitedError',
      message: `key "limited" has made its 2 requests of this 86400-second window; nothing was applied: retry in ${limited[2]!.retryAfter} s`,
      outcome: 'none',
    })
  })

  it('refuses a wrong token with 401 and publishes nothing', async () => {
    const server = await mesa()
    const a = await client(server, 'edge-refused')
    const recorder = open(await recordChannel(stack.redis.url, mesaKey('ws', namespace)))
    stack.gateway.resetCount()

    const refused = await post(worker, note(1, ['edge-refused']), { ...AUTHORIZED, authorization: 'Bearer edge-test-token-WRONG-6789' })

    expect(refused.status).toBe(401)
    expect(await refused.json()).toEqual({
      ok: false,
      error: { name: 'AuthenticationError', message: 'the bearer token is missing or wrong', outcome: 'none' },
    })
    // Refused before any Redis request; the accepted dispatch after it is then the first thing published.
    expect(stack.gateway.requests).toBe(0)
    expect((await post(worker, note(2, ['edge-refused']), AUTHORIZED)).status).toBe(200)
    expect(await recorder.waitFor(1)).toEqual([`{"message":${noteFrame(2)},"recipients":["edge-refused"]}`])
    expect(await a.waitForMessages(1)).toEqual([JSON.parse(noteFrame(2))])
    await a.expectNoMoreMessages(100)
    expect(recorder.messages).toHaveLength(1)
  })
})

describe('the sample wrangler.toml', () => {
  it('runs the bundle at its main, with its date, flags, vars and the secrets it names, and delivers a dispatch', async () => {
    const sample = await readWranglerSample()
    // A value for each secret the sample tells the user to put; one this test does not know fails it.
    const known: Record<string, string> = {
      UPSTASH_REDIS_REST_URL: stack.gateway.url,
      UPSTASH_REDIS_REST_TOKEN: GATEWAY_TOKEN,
      DISPATCH_TOKEN: TOKEN,
      DISPATCH_SIGNING_SECRET: SIGNING_SECRET,
    }
    const secrets = Object.fromEntries(sample.secrets.map((name) => [name, known[name] ?? `no test value for the secret ${name}`]))
    expect({
      main: sample.main,
      secrets: sample.secrets,
      secretsInVars: sample.secrets.filter((name) => name in sample.vars),
      varsNotStrings: Object.keys(sample.vars).filter((name) => typeof sample.vars[name] !== 'string'),
    }).toEqual({
      main: 'dist/edge/index.mjs',
      secrets: ['UPSTASH_REDIS_REST_URL', 'UPSTASH_REDIS_REST_TOKEN', 'DISPATCH_TOKEN', 'DISPATCH_SIGNING_SECRET'],
      secretsInVars: [],
      varsNotStrings: [],
    })
    const deployed = open(
      await startEdgeWorker(
        { ...sample.vars, ...secrets },
        { name: sample.name, script: sample.script, compatibilityDate: sample.compatibilityDate, compatibilityFlags: sample.compatibilityFlags },
      ),
    )
    const namespace = String(sample.vars.MESA_NAMESPACE ?? '')
    const server = await startMesaServer({ redisUrl: stack.redis.url, ...(namespace ? { namespace } : {}), sync: sample.vars.MESA_SYNC === 'true' })
    open({ close: () => server.close() })
    const a = await client(server, 'wrangler-sample')

    const response = await post(deployed, note(1, ['wrangler-sample']), AUTHORIZED)

    // With MESA_SYNC on, the Dispatcher checks who is online; off, it does not, and says so with null.
    const online = sample.vars.MESA_SYNC === 'true' ? ['wrangler-sample'] : null
    expect({ status: response.status, body: await response.json() }).toEqual({
      status: 200,
      body: {
        ok: true,
        result: {
          servers: 1,
          recipients: ['wrangler-sample'],
          online,
          offline: [],
          unstored: [],
          stored: 0,
          dropped: 0,
          duplicate: false,
          excludingIgnored: false,
        },
      },
    })
    expect(await a.waitForMessages(1)).toEqual([JSON.parse(noteFrame(1))])
  })
})
