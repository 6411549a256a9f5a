import { timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { pathCommand, type RedisCommand, refusal, toCommand, toCommands } from './upstash-gateway/commands'
import { encodeReply, type JsonReply } from './upstash-gateway/encoding'
import { createKeyLockingShebangs } from './upstash-gateway/key-locking'
import { connectRedis, isReplyError, type Outcome, pipeline, RedisUnavailable, send, transaction } from './upstash-gateway/redis'

/** Runs before normal handling; returning true means it already answered the request (fault injection in tests). */
export type GatewayIntercept = (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>

/** Options for startGateway: the Redis to front, the bearer token to demand, and where to listen. */
export interface GatewayOptions {
  redisUrl: string
  token: string
  /** Defaults to a free port. */
  port?: number
  /** Defaults to 127.0.0.1. */
  host?: string
  intercept?: GatewayIntercept
  /** The largest request body it accepts, as Upstash refuses one over 10 MB (413). @default 16777216 */
  maxBodyBytes?: number
}

/** A running local Upstash-REST-compatible gateway. */
export interface UpstashGateway {
  readonly url: string
  readonly port: number
  readonly token: string
  /** HTTP requests received on every path, including rejected ones, for tests that count round trips. */
  readonly requests: number
  resetCount(): void
  close(): Promise<void>
}

const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024
const EMPTY = Buffer.alloc(0)
const UNAUTHORIZED = JSON.stringify({ error: 'Unauthorized' })

/** Starts an HTTP server speaking the Upstash REST protocol (`/`, `/pipeline`, `/multi-exec`, path-style) over one ioredis connection. */
export async function startGateway(options: GatewayOptions): Promise<UpstashGateway> {
  if (!options.token) throw new Error('startGateway needs a non-empty token')
  const expected = Buffer.from(options.token)
  const { intercept } = options
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
  const { redis, commandNames } = await connectRedis(options.redisUrl)
  // Scripts under Upstash's `#!lua flags=allow-key-locking`, which redis-server refuses (upstash-gateway/key-locking.ts).
  const shebangs = createKeyLockingShebangs()
  let requests = 0

  const authorized = (req: IncomingMessage, query: URLSearchParams | undefined): boolean => {
    const header = req.headers.authorization
    const given = header?.slice(0, 7).toLowerCase() === 'bearer ' ? header.slice(7) : query?.get('_token')
    if (!given) return false
    const candidate = Buffer.from(given)
    return candidate.length === expected.length && timingSafeEqual(candidate, expected)
  }

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (intercept && (await intercept(req, res))) return
    const target = req.url ?? '/'
    const mark = target.indexOf('?')
    const path = mark < 0 ? target : target.slice(0, mark)
    const query = mark < 0 ? undefined : new URLSearchParams(target.slice(mark + 1))
    if (!authorized(req, query)) return respond(res, 401, UNAUTHORIZED)
    const { method } = req
    const hasBody = method === 'POST' || method === 'PUT'
    if (!hasBody && method !== 'GET' && method !== 'HEAD') return fail(res, 405, `ERR method ${method} is not allowed`)
    const body = hasBody ? await readBody(req, maxBodyBytes) : EMPTY
    if (body === undefined) return fail(res, 413, `ERR request body exceeds ${maxBodyBytes} bytes`)
    const base64 = req.headers['upstash-encoding'] === 'base64'

    if (path === '/pipeline' || path === '/multi-exec') {
      if (!hasBody) return fail(res, 405, `ERR ${path} needs POST`)
      const parsed = parse(body, toCommands)
      if (typeof parsed === 'string') return fail(res, 400, parsed)
      const translated = parsed.map((command) => shebangs.translate(command))
      const commands = translated.map(({ command }) => command)
      const answer = (outcomes: Outcome[]) => outcomes.map((outcome, i) => entry(outcome, base64, translated[i]!.reply))
      if (path === '/pipeline') {
        const outcomes = await pipeline(
          redis,
          commands.map((command) => refusal(command) ?? command),
        )
        return respond(res, 200, JSON.stringify(answer(outcomes)))
      }
      for (const command of commands) {
        const reason = refusal(command)
        if (reason) return fail(res, 400, reason)
      }
      return respond(res, 200, JSON.stringify(answer(await transaction(redis, commands))))
    }

    let command: RedisCommand | string
    if (path === '/') {
      command = hasBody ? parse(body, toCommand) : 'ERR POST a JSON array command such as ["PING"] to /'
    } else {
      command = pathCommand(path, body, query)
      if (typeof command !== 'string' && commandNames && !commandNames.has(command[0].toLowerCase())) {
        return fail(res, 404, `Not Found: ${path}`)
      }
    }
    if (typeof command === 'string') return fail(res, 400, command)
    const reason = refusal(command)
    if (reason) return fail(res, 400, reason)
    const translated = shebangs.translate(command)
    const reply = await send(redis, translated.command)
    respond(res, 200, JSON.stringify({ result: encodeReply(translated.reply(reply), base64) }))
  }

  const server = createServer((req, res) => {
    requests++
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) return void res.destroy()
      if (error instanceof RedisUnavailable) fail(res, 503, error.message)
      else if (isReplyError(error)) fail(res, 400, error.message)
      else fail(res, 500, `ERR gateway failure: ${String(error)}`)
    })
  })
  // Serverless callers and the benchmark reuse sockets; outlive undici's 4 s idle default with room to spare.
  server.keepAliveTimeout = 65_000
  server.headersTimeout = 66_000
  const host = options.host ?? '127.0.0.1'
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(options.port ?? 0, host, () => resolve())
    })
  } catch (error) {
    redis.disconnect()
    throw error
  }
  const { port } = server.address() as AddressInfo
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host

  return {
    url: `http://${urlHost}:${port}`,
    port,
    token: options.token,
    get requests() {
      return requests
    },
    resetCount() {
      requests = 0
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      // Idle keep-alive sockets would otherwise hold close() open for keepAliveTimeout.
      server.closeAllConnections()
      await closed
      redis.disconnect()
    },
  }
}

function entry(outcome: Outcome, base64: boolean, reply: (reply: unknown) => unknown): { result: JsonReply } | { error: string } {
  return outcome.ok ? { result: encodeReply(reply(outcome.reply), base64) } : { error: outcome.error }
}

function parse<T>(body: Buffer, validate: (value: unknown) => T | string): T | string {
  if (body.length === 0) return 'ERR empty request body; send a JSON array'
  let value: unknown
  try {
    value = JSON.parse(body.toString('utf8'))
  } catch (error) {
    return `ERR malformed JSON body: ${(error as Error).message}`
  }
  return validate(value)
}

function fail(res: ServerResponse, status: number, message: string): void {
  respond(res, status, JSON.stringify({ error: message }))
}

function respond(res: ServerResponse, status: number, json: string): void {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(json) })
  res.end(json)
}

/** Resolves the whole body, or undefined once it passes `limit` bytes (the rest is drained so keep-alive survives). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size <= limit) chunks.push(chunk)
    })
    req.once('end', () => resolve(size > limit ? undefined : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)))
    req.once('error', reject)
  })
}
