import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signRequest } from '../src/client/index'
import { createMesaKeys } from '../src/core/keys'
import { type ChannelRecorder, recordChannel } from './support/channel-recorder'
import { startEdgeWorker } from './support/edge-worker'
import type { HttpCall } from './support/events'
import { fetchTransport, type HttpTransport, lambdaTransports } from './support/http-transports'
import { answerProblems, loadOpenApi, type OpenApiDocument } from './support/openapi'
import { useStack } from './support/stack'

// The same HTTP cases through every way in: the Lambda adapter with each event shape, and the edge bundle in workerd.
const stack = useStack()
const TOKEN = 'http-test-dispatch-token'
const SECRET = 'http-test-signing-secret'
const NAMESPACE = 'httpcases'

const transports: HttpTransport[] = []
/** docs/openapi.yaml, which every answer below must match as well. */
let openapi: OpenApiDocument
let recorder: ChannelRecorder
let closeEdge: () => Promise<void> = async () => {}

beforeAll(async () => {
  openapi = (await loadOpenApi()).document
  const env = {
    ...stack.functionEnv(NAMESPACE),
    DISPATCH_TOKEN: TOKEN,
    DISPATCH_SIGNING_SECRET: SECRET,
    MAX_BODY_BYTES: '4096',
    MAX_BATCH: '3',
  }
  Object.assign(process.env, env)
  const { handler } = await import('../functions/http')
  const edge = await startEdgeWorker(env)
  closeEdge = edge.close
  transports.push(...lambdaTransports(handler), fetchTransport('edge worker (workerd)', edge.fetch))
  recorder = await recordChannel(stack.redis.url, `ws_${NAMESPACE}`)
  await stack.admin.sadd(`connected_clients_${NAMESPACE}`, 'online-user')
})
afterAll(async () => {
  await recorder.close()
  await closeEdge()
})

const bearer = { authorization: `Bearer ${TOKEN}` }
const post = (body: string, headers: Record<string, string> = bearer): HttpCall => ({ method: 'POST', path: '/dispatch', headers, body })
const note = JSON.stringify({ message: { op: 0, d: { n: 1 }, t: 'NOTE' }, recipients: ['online-user', 'offline-user'] })
const refused = (status: number, name: string, message: string, field?: string) => ({
  status,
  body: { ok: false, error: { name, message, ...(field ? { field } : {}), outcome: 'none' } },
  publishes: 0,
})
/** The note with a nonce in its data, so that signing it gives a signature no other call sends. */
const freshNote = () => JSON.stringify({ message: { op: 0, d: { n: 1, nonce: crypto.randomUUID() }, t: 'NOTE' }, recipients: ['online-user', 'offline-user'] })
/** The `x-mesa-signature` of a POST /dispatch of `body` by the key default, made `age` seconds ago. */
const signatureOf = (body: string, age = 0) =>
  signRequest(SECRET, { keyId: 'default', method: 'POST', path: '/dispatch', body, timestamp: Math.floor(Date.now() / 1000) - age })
const signed = async (body: string) => post(body, { 'x-mesa-signature': await signatureOf(body) })
/** An Idempotency-Key of exactly `length` characters that no other call uses. */
const uniqueKey = (length: number) => crypto.randomUUID().padEnd(length, 'k')
const delivered = {
  servers: 1,
  recipients: ['online-user'],
  online: ['online-user'],
  offline: ['offline-user'],
  unstored: [],
  stored: 1,
  dropped: 0,
  duplicate: false,
  excludingIgnored: false,
}
const duplicate = { servers: 0, recipients: [], online: null, offline: [], unstored: [], stored: 0, dropped: 0, duplicate: true, excludingIgnored: false }

interface Case {
  call: () => HttpCall | Promise<HttpCall>
  status: number
  body: unknown
  publishes: number
  headers?: Record<string, string>
}

const cases: Record<string, Case> = {
  'answers GET /health without auth': {
    call: () => ({ method: 'GET', path: '/health' }),
    status: 200,
    body: { ok: true, service: 'mesa-dispatch', keys: 1 },
    publishes: 0,
  },
  'answers HEAD /health without a body': { call: () => ({ method: 'HEAD', path: '/health' }), status: 200, body: '', publishes: 0 },
  'answers 404 for an unknown path': { call: () => ({ method: 'GET', path: '/nope' }), ...refused(404, 'NotFound', 'no such route') },
  'answers 405 for a wrong method, naming the right one': {
    call: () => ({ method: 'GET', path: '/dispatch', headers: bearer }),
    ...refused(405, 'MethodNotAllowed', 'use POST'),
    headers: { allow: 'POST' },
  },
  'refuses a dispatch without credentials': {
    call: () => post(note, {}),
    ...refused(401, 'AuthenticationError', 'send Authorization: Bearer <token> or a signed x-mesa-signature header'),
  },
  'refuses a wrong bearer token': {
    call: () => post(note, { authorization: 'Bearer not-the-token' }),
    ...refused(401, 'AuthenticationError', 'the bearer token is missing or wrong'),
  },
  'delivers a dispatch with the bearer token': { call: () => post(note), status: 200, body: { ok: true, result: delivered }, publishes: 1 },
  'delivers a base64 body': { call: () => ({ ...post(note), base64: true }), status: 200, body: { ok: true, result: delivered }, publishes: 1 },
  'delivers a signed webhook': {
    // A fresh body each time: the same signed request again would be a replay, answered as a duplicate.
    call: async () => signed(freshNote()),
    status: 200,
    body: { ok: true, result: delivered },
    publishes: 1,
  },
  'refuses a signature older than 5 minutes': {
    call: async () => post(note, { 'x-mesa-signature': await signatureOf(note, 301) }),
    ...refused(401, 'AuthenticationError', 'the signature timestamp is more than 300 seconds from now'),
  },
  'refuses a tampered body': {
    call: async () => post(note.replace('"n":1', '"n":2'), { 'x-mesa-signature': await signatureOf(note) }),
    ...refused(401, 'AuthenticationError', 'the signature does not match the request'),
  },
  'refuses an empty body': { call: () => post(''), ...refused(400, 'ValidationError', 'body must be a JSON object, got an empty body', 'body') },
  'refuses a body that is not JSON': { call: () => post('{"message":'), ...refused(400, 'ValidationError', 'body is not valid JSON', 'body') },
  'refuses null': { call: () => post('null'), ...refused(400, 'ValidationError', 'body must be a JSON object', 'body') },
  'refuses an array': { call: () => post('[]'), ...refused(400, 'ValidationError', 'body must be a JSON object', 'body') },
  'refuses recipients of the wrong type': {
    call: () => post(JSON.stringify({ message: { d: 1 }, recipients: ['a', { id: 1 }] })),
    ...refused(400, 'ValidationError', 'recipients[1] must be a string or a finite number, got a value of type object', 'recipients[1]'),
  },
  'refuses a lone surrogate in a recipient, which Redis would store as U+FFFD': {
    call: () => post(JSON.stringify({ message: { d: 1 }, recipients: ['a', '\ud800'] })),
    ...refused(400, 'ValidationError', 'recipients[1] must be well-formed UTF-16, without a lone surrogate', 'recipients[1]'),
  },
  'refuses a lone surrogate in excluding': {
    call: () => post(JSON.stringify({ message: { d: 1 }, recipients: ['a'], excluding: ['\udbff'] })),
    ...refused(400, 'ValidationError', 'excluding[0] must be well-formed UTF-16, without a lone surrogate', 'excluding[0]'),
  },
  'refuses a lone surrogate in an id, which would share its dedupe key': {
    call: () => post(JSON.stringify({ ...JSON.parse(note), id: 'order-\udc00' })),
    ...refused(400, 'ValidationError', 'id must be well-formed UTF-16, without a lone surrogate', 'id'),
  },
  'refuses a lone surrogate in a batch item id': {
    call: () => post(JSON.stringify({ dispatches: [JSON.parse(note), { ...JSON.parse(note), id: 'order-\ud800' }] })),
    ...refused(400, 'ValidationError', 'dispatches[1].id must be well-formed UTF-16, without a lone surrogate', 'dispatches[1].id'),
  },
  'refuses a negative op': {
    call: () => post(JSON.stringify({ message: { op: -1, d: 1 } })),
    ...refused(400, 'ValidationError', 'message.op must be a non-negative integer, got the number -1', 'message.op'),
  },
  'refuses an unknown event': {
    call: () => post(JSON.stringify({ event: 'REBOOT' })),
    ...refused(400, 'ValidationError', 'event must be one of DISCONNECT_CLIENT, got a value of type string', 'event'),
  },
  'refuses an unknown field': {
    call: () => post(JSON.stringify({ message: { d: 1 }, recipient: ['a'] })),
    ...refused(400, 'ValidationError', 'recipient is not a known field', 'recipient'),
  },
  'refuses a body over MAX_BODY_BYTES before parsing it': {
    // Not even JSON: a 413 rather than a 400 shows the size was checked first.
    call: () => post(`{"message":{"d":"${'x'.repeat(5000)}`),
    ...refused(413, 'PayloadTooLargeError', 'request body must be at most 4096 bytes'),
  },
  'delivers a batch, one result per dispatch': {
    call: () => post(JSON.stringify({ dispatches: [JSON.parse(note), { event: 'DISCONNECT_CLIENT', recipients: ['nobody'] }] })),
    status: 200,
    body: {
      ok: true,
      results: [
        { ok: true, result: delivered },
        {
          ok: true,
          result: {
            servers: 1,
            recipients: ['nobody'],
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
    publishes: 2,
  },
  'accepts an Idempotency-Key of 252 characters': {
    call: () => post(note, { ...bearer, 'idempotency-key': uniqueKey(252) }),
    status: 200,
    body: { ok: true, result: delivered },
    publishes: 1,
  },
  'accepts an Idempotency-Key of 252 characters on a batch, whose items add :<index>': {
    call: () => post(JSON.stringify({ dispatches: [JSON.parse(note)] }), { ...bearer, 'idempotency-key': uniqueKey(252) }),
    status: 200,
    body: { ok: true, results: [{ ok: true, result: delivered }] },
    publishes: 1,
  },
  'refuses an Idempotency-Key of 253 characters': {
    call: () => post(note, { ...bearer, 'idempotency-key': uniqueKey(253) }),
    ...refused(400, 'ValidationError', 'Idempotency-Key must be 1 to 252 characters', 'Idempotency-Key'),
  },
  'refuses an Idempotency-Key of 253 characters on a batch': {
    call: () => post(JSON.stringify({ dispatches: [JSON.parse(note)] }), { ...bearer, 'idempotency-key': uniqueKey(253) }),
    ...refused(400, 'ValidationError', 'Idempotency-Key must be 1 to 252 characters', 'Idempotency-Key'),
  },
  'refuses a batch longer than MAX_BATCH': {
    call: () => post(JSON.stringify({ dispatches: Array(4).fill(JSON.parse(note)) })),
    ...refused(400, 'ValidationError', 'dispatches must hold at most 3 dispatches', 'dispatches'),
  },
  'refuses a whole batch when one item is invalid, publishing none': {
    call: () => post(JSON.stringify({ dispatches: [JSON.parse(note), { message: {} }] })),
    ...refused(400, 'ValidationError', 'dispatches[1].message.d is required', 'dispatches[1].message.d'),
  },
}

describe.each(['Lambda REST API (payload 1.0)', 'Lambda HTTP API (payload 2.0)', 'Lambda Function URL', 'edge worker (workerd)'])('%s', (name) => {
  it.each(Object.entries(cases))('%s', async (_, testCase) => {
    const transport = transports.find((each) => each.name === name)!
    const before = recorder.messages.length
    const call = await testCase.call()
    const reply = await transport.send(call)
    expect({ status: reply.status, body: reply.body }).toEqual({ status: testCase.status, body: testCase.body })
    expect(answerProblems(openapi, call.method, call.path, reply)).toEqual([])
    for (const [header, value] of Object.entries(testCase.headers ?? {})) expect(reply.headers[header]).toBe(value)
    if (testCase.publishes > 0) await recorder.waitFor(before + testCase.publishes)
    expect(recorder.messages.length - before).toBe(testCase.publishes)
  })

  /** Sends one call twice: both answers, and what was published once `expected` payloads have arrived. */
  async function sentTwice(call: HttpCall, expected: number) {
    const transport = transports.find((each) => each.name === name)!
    const before = recorder.messages.length
    const bodies = [(await transport.send(call)).body, (await transport.send(call)).body]
    await recorder.waitFor(before + expected)
    return { bodies, published: recorder.messages.length - before }
  }
  const once = {
    bodies: [
      { ok: true, result: delivered },
      { ok: true, result: duplicate },
    ],
    published: 1,
  }

  it('applies the same body id once, and answers the repeat as a duplicate', async () => {
    expect(await sentTwice(post(JSON.stringify({ ...JSON.parse(note), id: `body-id-${name}` })), 1)).toEqual(once)
  })

  it('applies the same Idempotency-Key once, and answers the repeat as a duplicate', async () => {
    expect(await sentTwice(post(note, { ...bearer, 'idempotency-key': `key-${name}` }), 1)).toEqual(once)
  })

  it('applies a signed request replayed inside the signature window once, and remembers it no longer than the window', async () => {
    const call = await signed(freshNote())
    const storedFor = async () => JSON.parse((await stack.admin.hget(`undelivered_messages_${NAMESPACE}`, 'offline-user')) ?? '[]').length as number
    const storedBefore = await storedFor()
    expect({ ...(await sentTwice(call, 1)), stored: (await storedFor()) - storedBefore }).toEqual({ ...once, stored: 1 })
    const ttl = await stack.admin.ttl(createMesaKeys(NAMESPACE).idempotency('dispatch', `sig:${call.headers!['x-mesa-signature']!.split('v2=')[1]}`))
    expect(ttl).toBeGreaterThan(590)
    expect(ttl).toBeLessThanOrEqual(600)
  })

  it('applies a bearer request without an id each time it is sent, as documented', async () => {
    expect(await sentTwice(post(note), 2)).toEqual({
      bodies: [
        { ok: true, result: delivered },
        { ok: true, result: delivered },
      ],
      published: 2,
    })
  })
})
