import { once } from 'node:events'
import { type AddressInfo, connect, createServer, type Socket } from 'node:net'
import { describe, expect, it } from 'vitest'
import { errorCodesOf, redactMessage, summarizeError } from '../src/error-chain'
import { RedisUnavailableError } from '../src/errors'
import { MAX_LOGGED_CAUSES, MAX_LOGGED_MESSAGE_LENGTH } from '../src/limits'
import { describeFetchError } from '../src/transport/rest'
import { freePort } from './support/ports'

// What a failure's chain of causes says, read from errors the runtime really throws where it can make them here.

const fetchFailure = (url: string) =>
  fetch(url, { method: 'POST' }).then(
    () => Promise.reject(new Error(`${url} answered`)),
    (error: unknown) => error,
  )

/** What fetch rejects with when its AbortSignal.timeout fires, against a server that accepts and never answers. */
async function timedOut(): Promise<unknown> {
  const held: Socket[] = []
  const server = createServer((socket) => held.push(socket)).listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  const failure = await fetch(`http://127.0.0.1:${port}`, { signal: AbortSignal.timeout(50) }).catch((error: unknown) => error)
  for (const socket of held) socket.destroy()
  server.close()
  return failure
}

/** The AggregateError Node's happy-eyeballs connect gives when both addresses of a dual-stack host refuse. */
function refusedOnBothFamilies(port: number): Promise<unknown> {
  const addresses = [
    { address: '::1', family: 6 },
    { address: '127.0.0.1', family: 4 },
  ]
  return new Promise((resolve) => {
    const socket = connect({ host: 'dual-stack.test', port, autoSelectFamily: true, lookup: (_host, _options, done) => done(null, addresses) })
    socket.once('error', resolve)
  })
}

/** The same as older Node versions and other runtimes build it: no code of its own, one on each gathered error. */
const codelessAggregate = (port: number) =>
  new AggregateError([
    Object.assign(new Error(`connect ECONNREFUSED ::1:${port}`), { code: 'ECONNREFUSED' }),
    Object.assign(new Error(`connect ETIMEDOUT 127.0.0.1:${port}`), { code: 'ETIMEDOUT' }),
  ])

describe('summarizeError', () => {
  it("follows undici's fetch failed down to the refused connection", async () => {
    const port = await freePort()
    expect(summarizeError(await fetchFailure(`http://127.0.0.1:${port}`))).toEqual({
      name: 'TypeError',
      message: 'fetch failed',
      cause: { name: 'Error', code: 'ECONNREFUSED', message: `connect ECONNREFUSED 127.0.0.1:${port}` },
    })
  })

  it('keeps what an AggregateError gathered, one error per address tried', async () => {
    const port = await freePort()
    expect(summarizeError(await refusedOnBothFamilies(port))).toEqual({
      name: 'AggregateError',
      code: 'ECONNREFUSED',
      message: '',
      errors: [
        { name: 'Error', code: 'ECONNREFUSED', message: `connect ECONNREFUSED ::1:${port}` },
        { name: 'Error', code: 'ECONNREFUSED', message: `connect ECONNREFUSED 127.0.0.1:${port}` },
      ],
    })
  })

  it('cuts a URL fetch quotes to its origin, so that user:password@ and the query never reach a log', async () => {
    const failure = await fetchFailure('https://default:p4ssw0rd@mesa.invalid/path?_token=t0k3n')
    expect(summarizeError(failure)).toEqual({
      name: 'TypeError',
      message: 'Request cannot be constructed from a URL that includes credentials: https://mesa.invalid/…',
    })
  })

  it('stops a chain that loops after MAX_LOGGED_CAUSES causes', () => {
    const looped = new Error('outer')
    looped.cause = new Error('inner', { cause: looped })
    let depth = 0
    for (let summary = summarizeError(looped); summary.cause; summary = summary.cause) depth++
    expect(depth).toBe(MAX_LOGGED_CAUSES)
  })

  it('names a thrown value that is not an object by its type alone', () => {
    expect(summarizeError(new RedisUnavailableError('Redis could not be reached', undefined, { cause: 'a string with secrets' }))).toEqual({
      name: 'RedisUnavailableError',
      message: 'Redis could not be reached',
      cause: { name: 'string', message: '' },
    })
  })
})

describe('redactMessage', () => {
  it.each([
    ['connect ECONNREFUSED 127.0.0.1:6379', 'connect ECONNREFUSED 127.0.0.1:6379'],
    ['the dispatch endpoint at https://dispatch.example.com refused', 'the dispatch endpoint at https://dispatch.example.com refused'],
    ['GET https://example.upstash.io/ failed', 'GET https://example.upstash.io/ failed'],
    ['at rediss://default:secret@eu1.upstash.io:6379/0 closed', 'at rediss://eu1.upstash.io:6379/… closed'],
    ['https://example.upstash.io/get/key?_token=abc', 'https://example.upstash.io/…'],
  ])('turns %j into %j', (message, redacted) => {
    expect(redactMessage(message)).toBe(redacted)
  })

  it(`keeps the first ${MAX_LOGGED_MESSAGE_LENGTH} characters of a long message`, () => {
    expect(redactMessage('x'.repeat(1000))).toBe(`${'x'.repeat(MAX_LOGGED_MESSAGE_LENGTH)}…`)
  })
})

describe('the REST transport names a failed request', () => {
  it.each([
    ['a refused connection by its code', async (port: number) => fetchFailure(`http://127.0.0.1:${port}`), 'ECONNREFUSED'],
    [
      'a refusal on both address families by their code',
      async (port: number) => new TypeError('fetch failed', { cause: await refusedOnBothFamilies(port) }),
      'ECONNREFUSED',
    ],
    [
      'an AggregateError without a code of its own by the codes it gathered',
      async (port: number) => new TypeError('fetch failed', { cause: codelessAggregate(port) }),
      'ECONNREFUSED, ETIMEDOUT',
    ],
    ['a timeout as such', async () => timedOut(), 'timed out'],
    ['a failure without a code by its innermost cause', async () => fetchFailure('http://127.0.0.1:9'), 'Error: bad port'],
  ])('%s', async (_, failure, description) => {
    expect(describeFetchError(await failure(await freePort()))).toBe(description)
  })

  it('finds every code in the chain, outermost first, each once', async () => {
    const port = await freePort()
    expect(errorCodesOf(new TypeError('fetch failed', { cause: codelessAggregate(port) }))).toEqual(['ECONNREFUSED', 'ETIMEDOUT'])
  })
})
