import { randomUUID } from 'node:crypto'
import { connect } from 'node:net'
import { Redis } from '@upstash/redis'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { startGateway, type UpstashGateway } from '../../dev/upstash-gateway'
import { type RedisServer, startRedisServer } from '../support/redis-server'

const token = `token-${randomUUID()}`
let server: RedisServer
let gateway: UpstashGateway
/** @upstash/redis's defaults, as a caller's own client uses them: base64 responses and auto-pipelining (every command goes to /pipeline). */
let redis: Redis
/** `responseEncoding: false`: plain JSON strings. */
let plain: Redis
/** No auto-pipelining, so each command is a single `POST /`. */
let direct: Redis

beforeAll(async () => {
  server = await startRedisServer()
  gateway = await startGateway({ redisUrl: server.url, token })
  redis = new Redis({ url: gateway.url, token })
  plain = new Redis({ url: gateway.url, token, responseEncoding: false })
  direct = new Redis({ url: gateway.url, token, enableAutoPipelining: false })
})

afterAll(async () => {
  await gateway?.close()
  await server?.stop()
})

type Body = string | Uint8Array<ArrayBuffer> | undefined

/** Raw HTTP against the gateway, authorised unless the headers say otherwise. */
async function http(path: string, options: { method?: string; body?: Body; headers?: Record<string, string> } = {}) {
  const response = await fetch(gateway.url + path, {
    method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
    headers: { Authorization: `Bearer ${token}`, ...options.headers },
    body: options.body,
  })
  return { status: response.status, body: (await response.json()) as unknown }
}

const base64 = { 'Upstash-Encoding': 'base64' }

describe('startRedisServer', () => {
  it('picks a free loopback port and restarts on the same port after stop', async () => {
    const other = await startRedisServer()
    try {
      expect(other.port).not.toBe(server.port)
      expect(other.url).toBe(`redis://127.0.0.1:${other.port}`)
      expect(await firstReplyLine(other.port)).toBe('+PONG')
      await other.stop()
      expect(await firstReplyLine(other.port)).toBe('ECONNREFUSED')
      await other.start()
      expect(await firstReplyLine(other.port)).toBe('+PONG')
    } finally {
      await other.stop()
    }
  })
})

describe('Upstash gateway', () => {
  it('round-trips unicode and JSON-looking values through SET and GET with every client setting', async () => {
    const unicode = 'héllo wörld ✓ 🚀 日本語'
    for (const client of [redis, plain, direct]) {
      expect(await client.set('unicode', unicode)).toBe('OK')
      expect(await client.get('unicode')).toBe(unicode)
      expect(await client.set('json', { a: 1, nested: ['x', null], s: 'ünï' })).toBe('OK')
      expect(await client.get('json')).toEqual({ a: 1, nested: ['x', null], s: 'ünï' })
    }
    const raw = new Redis({ url: gateway.url, token, automaticDeserialization: false })
    expect(await raw.get('json')).toBe('{"a":1,"nested":["x",null],"s":"ünï"}')
  })

  it('answers HSET, HGET and HGETALL as flat Redis replies in both encodings', async () => {
    for (const client of [redis, plain]) {
      await client.del('hash')
      expect(await client.hset('hash', { name: 'ünïcode', count: 2 })).toBe(2)
      expect(await client.hget('hash', 'name')).toBe('ünïcode')
      expect(await client.hgetall('hash')).toEqual({ name: 'ünïcode', count: 2 })
    }
    expect(await http('/', { body: '["HGETALL","hash"]' })).toEqual({
      status: 200,
      body: { result: ['name', 'ünïcode', 'count', '2'] },
    })
  })

  it('keeps control characters and astral-plane text intact in both encodings', async () => {
    const binaryish = '\u0000\u0001\u001f\u007f\u0080\u00ff\r\n\t"\\ \ud83d\ude80 end'
    for (const client of [redis, plain]) {
      expect(await client.set('binaryish', binaryish)).toBe('OK')
      expect(await client.get('binaryish')).toBe(binaryish)
    }
  })

  it('keeps non-UTF-8 bytes intact in base64 replies and replaces them without base64', async () => {
    const bytes = new Uint8Array([0xff, 0x00, 0xfe, 0x80, 0x0a])
    expect(await http('/set/bytes', { body: bytes })).toEqual({ status: 200, body: { result: 'OK' } })
    expect(await http('/', { body: '["GET","bytes"]', headers: base64 })).toEqual({
      status: 200,
      body: { result: Buffer.from(bytes).toString('base64') },
    })
    expect(await http('/', { body: '["GET","bytes"]' })).toEqual({ status: 200, body: { result: '\ufffd\u0000\ufffd\ufffd\n' } })
  })

  it('base64-encodes every string but OK, leaves integers as numbers and nil as null', async () => {
    const body = JSON.stringify([['SET', 'counter', '41'], ['INCR', 'counter'], ['GET', 'counter'], ['PING'], ['GET', 'missing']])
    expect(await http('/pipeline', { body, headers: base64 })).toEqual({
      status: 200,
      body: [{ result: 'OK' }, { result: 42 }, { result: 'NDI=' }, { result: 'UE9ORw==' }, { result: null }],
    })
    expect(await http('/pipeline', { body })).toEqual({
      status: 200,
      body: [{ result: 'OK' }, { result: 42 }, { result: '42' }, { result: 'PONG' }, { result: null }],
    })
  })

  it('runs EVAL with keys, arguments and nested tables', async () => {
    const script = 'return {KEYS[1], ARGV[1], 7, {"nested", {"deeper"}}}'
    for (const client of [redis, plain, direct]) {
      expect(await client.eval(script, ['k1'], ['a1'])).toEqual(['k1', 'a1', 7, ['nested', ['deeper']]])
    }
  })

  it('runs EVALSHA of a loaded script and rejects an unknown sha with NOSCRIPT', async () => {
    const sha = await redis.scriptLoad('return ARGV[1]')
    expect(await redis.evalsha(sha, [], ['echoed'])).toBe('echoed')
    await expect(redis.evalsha('0'.repeat(40), [], [])).rejects.toThrow('NOSCRIPT No matching script')
    await expect(direct.evalsha('0'.repeat(40), [], [])).rejects.toThrow('NOSCRIPT No matching script')
  })

  it('lets createScript fall back from EVALSHA to EVAL once, then hit the script cache', async () => {
    expect(await redis.scriptFlush()).toBe('OK')
    const script = redis.createScript<string[]>('return {KEYS[1], ARGV[1]}')
    gateway.resetCount()
    expect(await script.exec(['key'], ['arg'])).toEqual(['key', 'arg'])
    expect(gateway.requests).toBe(2)
    expect(await script.exec(['key'], ['again'])).toEqual(['key', 'again'])
    expect(gateway.requests).toBe(3)
  })

  it('answers a pipeline with per-command errors', async () => {
    const pipeline = redis.pipeline().set('piped', 'text').incr('piped').get('piped')
    expect(await pipeline.exec({ keepErrors: true })).toEqual([
      { error: undefined, result: 'OK' },
      { error: 'ERR value is not an integer or out of range', result: undefined },
      { error: undefined, result: 'text' },
    ])
    await expect(redis.pipeline().get('piped').incr('piped').exec()).rejects.toThrow('Command 2 [ incr ] failed: ERR value is not an integer or out of range')
  })

  it('runs multi() as one MULTI/EXEC transaction', async () => {
    expect(await redis.multi().set('tx', '1').incr('tx').get('tx').exec()).toEqual(['OK', 2, 2])
    expect(await redis.multi().set('tx', 'text').incr('tx').get('tx').exec({ keepErrors: true })).toEqual([
      { error: undefined, result: 'OK' },
      { error: 'ERR value is not an integer or out of range', result: undefined },
      { error: undefined, result: 'text' },
    ])
  })

  it('discards a transaction with a command Redis refuses to queue', async () => {
    const body = JSON.stringify([['SET', 'aborted', '1'], ['NOSUCHCOMMAND'], ['GET', 'aborted']])
    expect(await http('/multi-exec', { body })).toEqual({
      status: 400,
      body: {
        error: "EXECABORT Transaction discarded because of previous errors. (ERR unknown command 'NOSUCHCOMMAND', with args beginning with:)",
      },
    })
    expect(await redis.exists('aborted')).toBe(0)
  })

  it('keeps each transaction contiguous while other requests run concurrently', async () => {
    await redis.del('contended')
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        i % 2 === 0 ? direct.multi().incr('contended').incr('contended').exec() : direct.incr('contended').then((n) => [n]),
      ),
    )
    const transactions = results.filter((result) => result.length === 2)
    expect(transactions.map(([first, second]) => (second as number) - (first as number))).toEqual(Array(20).fill(1))
    expect(await redis.get('contended')).toBe(60)
  })

  it('rejects a wrong or missing token with 401', async () => {
    const unauthorized = { status: 401, body: { error: 'Unauthorized' } }
    expect(await http('/', { body: '["PING"]', headers: { Authorization: 'Bearer wrong' } })).toEqual(unauthorized)
    expect(await http('/', { body: '["PING"]', headers: { Authorization: '' } })).toEqual(unauthorized)
    expect(await http(`/ping?_token=wrong`, { headers: { Authorization: '' } })).toEqual(unauthorized)
    const intruder = new Redis({ url: gateway.url, token: 'wrong', enableAutoPipelining: false })
    await expect(intruder.ping()).rejects.toThrow('Unauthorized, command was: ["ping"]')
  })

  it('accepts the token as a _token query parameter', async () => {
    await redis.set('query-auth', 'ok via query')
    expect(await http(`/get/query-auth?_token=${token}`, { headers: { Authorization: '' } })).toEqual({
      status: 200,
      body: { result: 'ok via query' },
    })
  })

  it('answers an unknown command with 400 and the Redis error', async () => {
    expect(await http('/', { body: '["NOSUCHCOMMAND","x"]' })).toEqual({
      status: 400,
      body: { error: "ERR unknown command 'NOSUCHCOMMAND', with args beginning with: 'x' " },
    })
    await expect(direct.incr('unicode')).rejects.toThrow('ERR value is not an integer or out of range, command was: ["incr","unicode"]')
  })

  it('answers a malformed body with 400 and a reason', async () => {
    const cases: [Body, string][] = [
      ['', 'ERR empty request body; send a JSON array'],
      ['[]', 'ERR a command must be a non-empty JSON array'],
      ['{"command":"PING"}', 'ERR a command must be a non-empty JSON array'],
      ['[["GET","k"]]', 'ERR the command name must be a non-empty string'],
      ['["GET",null]', 'ERR argument 1 must be a string or a number'],
      ['["SET","k",{"a":1}]', 'ERR argument 2 must be a string or a number'],
    ]
    for (const [body, error] of cases) expect(await http('/', { method: 'POST', body })).toEqual({ status: 400, body: { error } })
    expect(await http('/', { body: 'not json' })).toEqual({
      status: 400,
      body: { error: expect.stringMatching(/^ERR malformed JSON body: /) as unknown },
    })
    expect(await http('/pipeline', { body: '[["PING"],"PING"]' })).toEqual({
      status: 400,
      body: { error: 'ERR a command must be a non-empty JSON array (command 2)' },
    })
  })

  it('refuses commands that would take over the shared connection', async () => {
    expect(await http('/', { body: '["SUBSCRIBE","channel"]' })).toEqual({
      status: 400,
      body: { error: 'ERR SUBSCRIBE is not supported over REST' },
    })
    expect(await http('/pipeline', { body: '[["BLPOP","list","0"],["PING"]]' })).toEqual({
      status: 200,
      body: [{ error: 'ERR BLPOP is not supported over REST' }, { result: 'PONG' }],
    })
    expect(await http('/multi-exec', { body: '[["PING"],["SELECT","1"]]' })).toEqual({
      status: 400,
      body: { error: 'ERR SELECT is not supported over REST' },
    })
  })

  it('answers an unknown path with 404', async () => {
    expect(await http('/no-such-endpoint/x')).toEqual({ status: 404, body: { error: 'Not Found: /no-such-endpoint/x' } })
  })

  it('runs path-style commands, with a POST body as the value and query parameters after it', async () => {
    expect(await http('/set/path-key/path%20value')).toEqual({ status: 200, body: { result: 'OK' } })
    expect(await http('/get/path-key')).toEqual({ status: 200, body: { result: 'path value' } })
    expect(await http('/set/expiring?EX=100', { body: '{"posted":true}' })).toEqual({ status: 200, body: { result: 'OK' } })
    expect(await http('/ttl/expiring')).toEqual({ status: 200, body: { result: 100 } })
    expect(await redis.get('expiring')).toEqual({ posted: true })
  })

  it('counts exactly one request per command and one per pipeline', async () => {
    gateway.resetCount()
    expect(gateway.requests).toBe(0)
    await direct.set('counted', 'x')
    expect(gateway.requests).toBe(1)
    await redis.get('counted')
    expect(gateway.requests).toBe(2)
    await redis.pipeline().get('counted').get('counted').set('counted', 'y').exec()
    expect(gateway.requests).toBe(3)
    await redis.multi().get('counted').set('counted', 'z').exec()
    expect(gateway.requests).toBe(4)
    await http('/', { body: '["PING"]', headers: { Authorization: 'Bearer wrong' } })
    expect(gateway.requests).toBe(5)
  })

  it('lets an intercept answer before normal handling', async () => {
    const faulty = await startGateway({
      redisUrl: server.url,
      token,
      intercept: (req, res) => {
        if (req.url !== '/pipeline') return false
        res.writeHead(500, { 'Content-Type': 'application/json' }).end('{"error":"injected fault"}')
        return true
      },
    })
    try {
      const client = new Redis({ url: faulty.url, token, enableAutoPipelining: false })
      expect(await client.ping()).toBe('PONG')
      await expect(client.pipeline().ping().exec()).rejects.toThrow('injected fault, command was: [["ping"]]')
      expect(faulty.requests).toBe(2)
    } finally {
      await faulty.close()
    }
  })

  it('answers 503 while redis-server is down and recovers after it restarts', async () => {
    await redis.set('survives-restart', 'no')
    await server.stop()
    try {
      const started = Date.now()
      expect(await http('/', { body: '["GET","survives-restart"]' })).toEqual({
        status: 503,
        body: { error: expect.stringMatching(/^Redis is unavailable: /) as unknown },
      })
      expect(await http('/pipeline', { body: '[["PING"]]' })).toMatchObject({ status: 503 })
      expect(await http('/multi-exec', { body: '[["PING"]]' })).toMatchObject({ status: 503 })
      expect(Date.now() - started).toBeLessThan(1_000)
      await expect(direct.get('survives-restart')).rejects.toThrow('Redis is unavailable')
    } finally {
      await server.start()
    }
    await vi.waitFor(async () => expect(await http('/', { body: '["PING"]' })).toEqual({ status: 200, body: { result: 'PONG' } }), {
      timeout: 10_000,
      interval: 50,
    })
    // No persistence: a restarted redis-server starts empty.
    expect(await redis.get('survives-restart')).toBeNull()
  })
})

/** The first RESP line redis answers to PING on a port, or the connection error code. */
function firstReplyLine(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.write('PING\r\n'))
    socket.once('data', (chunk) => {
      socket.destroy()
      resolve(chunk.toString().split('\r\n')[0] ?? '')
    })
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message))
  })
}
