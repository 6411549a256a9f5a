import { randomBytes } from 'node:crypto'
import edge from '../functions/edge'
import { MIN_SECRET_LENGTH } from '../src/limits'
import { createConsoleRoutes } from './console-routes'
import { type DemoClients, startDemoClients } from './demo-clients'
import { createLiveFeed } from './live-feed'
import { startMesaServer } from './mesa-server'
import { DEV_NAMESPACE, DEV_TOKEN } from './ready-line'
import { startRedisServer } from './redis-server'
import { type FetchHandler, serveFetch } from './serve-fetch'
import { startGateway } from './upstash-gateway'

/** How to run the local stack; `npm run dev` fills it from env variables. */
export interface DevStackOptions {
  /** The dev server (console and endpoint). 0 picks a free port. @default 8787 */
  port?: number
  /** The demo Mesa server. 0 picks a free port. @default 4000 */
  mesaPort?: number
  /** An existing Redis; without one a redis-server is started on a free port. */
  redisUrl?: string
  /** The bearer token the endpoint demands, at least 16 characters. @default DEV_TOKEN, the sample events' */
  token?: string
  /** The Mesa namespace, the README examples' own, so that they reach the demo Mesa server. @default 'api' */
  namespace?: string
  /** @default ['alice', 'bob', 'carol'] */
  clientIds?: string[]
  /** The endpoint's UPSTASH_SCRIPT_KEY_LOCKING: its scripts under Upstash's key-locking shebang, which the gateway accepts. @default false */
  keyLocking?: boolean
  /** Where Mesa's errors are reported. @default console.error */
  onError?: (message: string) => void
  /**
   * Told when the redis-server this stack started exits on its own, with its exit code or signal: nothing of the
   * stack works without it. @default reported through onError
   */
  onRedisExit?: (how: string) => void
}

/** A running dev stack: Redis, the Upstash gateway, Mesa with demo clients, and the endpoint with its console. */
export interface DevStack {
  /** http://HOST:PORT/ */
  consoleUrl: string
  /** http://HOST:PORT/dispatch */
  endpointUrl: string
  mesaUrl: string
  redisUrl: string
  /** The local Upstash gateway's REST URL, http://HOST:PORT, what UPSTASH_REDIS_REST_URL points at. */
  restUrl: string
  /** The gateway's token, random per run, for UPSTASH_REDIS_REST_TOKEN. */
  restToken: string
  /** True when this stack started the redis-server (and so stops it). */
  startedRedis: boolean
  token: string
  namespace: string
  clients: DemoClients
  /** Stops everything it started: the demo clients, Mesa, the endpoint and console, the gateway, then Redis. */
  close(): Promise<void>
}

/** The parts of the stack that stop, in the order they stop. */
type Part = (typeof STOP_ORDER)[number]

/**
 * Users of a part stop before it: the demo clients before Mesa (so Mesa registers their going), Mesa before
 * Redis (so its ioredis never sees Redis go first), the endpoint before the gateway it dispatches through.
 */
const STOP_ORDER = ['clients', 'feed', 'mesa', 'server', 'gateway', 'redis'] as const

/** Starts the whole local stack and resolves once every demo client is online. */
export async function startDevStack(options: DevStackOptions = {}): Promise<DevStack> {
  const namespace = options.namespace ?? DEV_NAMESPACE
  const token = options.token ?? DEV_TOKEN
  // A shorter token would leave the endpoint misconfigured, answering every request with 503.
  if (token.length < MIN_SECRET_LENGTH) throw new Error(`the dev token must be at least ${MIN_SECRET_LENGTH} characters`)
  const report = options.onError ?? ((message: string) => console.error(message))
  // Each part's stop, filled in as it starts; close() runs them in STOP_ORDER whatever the start order was.
  const stops = new Map<Part, () => Promise<void>>()
  const close = async () => {
    const failures: unknown[] = []
    for (const part of STOP_ORDER) {
      const stop = stops.get(part)
      stops.delete(part)
      if (stop) await stop().catch((error: unknown) => failures.push(error))
    }
    if (failures.length > 0) throw new AggregateError(failures, 'the dev stack did not stop cleanly')
  }

  try {
    let redisUrl = options.redisUrl
    if (!redisUrl) {
      const onRedisExit = options.onRedisExit ?? ((how: string) => report(`redis-server exited (${how})`))
      const redis = await startRedisServer({ onExit: onRedisExit })
      stops.set('redis', () => redis.stop())
      redisUrl = redis.url
    }
    // A random token per run; the export line hands it to `serverless invoke local` and the CLI.
    const gateway = await startGateway({ redisUrl, token: randomBytes(16).toString('hex') })
    stops.set('gateway', () => gateway.close())
    const mesa = await startMesaServer({
      redisUrl,
      namespace,
      sync: true,
      port: options.mesaPort ?? 4000,
      onError: (error) => report(`mesa: ${error.message}`),
    })
    stops.set('mesa', () => mesa.close())

    const feed = createLiveFeed()
    stops.set('feed', async () => feed.close())
    const clients = await startDemoClients({
      mesaUrl: mesa.url,
      redisUrl,
      namespace,
      ids: options.clientIds ?? ['alice', 'bob', 'carol'],
      onStatus: (status) => feed.publish('status', status),
      onFrame: (id, frame) => feed.publish('frame', { id, ...frame }),
    })
    stops.set('clients', () => clients.close())

    // The edge bundle's own entry, given bindings as a Worker would be; one object, so it builds one app.
    const bindings = {
      UPSTASH_REDIS_REST_URL: gateway.url,
      UPSTASH_REDIS_REST_TOKEN: gateway.token,
      MESA_NAMESPACE: namespace,
      MESA_SYNC: 'true',
      DISPATCH_TOKEN: token,
      UPSTASH_SCRIPT_KEY_LOCKING: String(options.keyLocking === true),
    }
    // Bound late: the console config needs the server's URL, and the server needs the handler.
    let handler: FetchHandler | undefined
    const server = await serveFetch((request) => handler!(request), { port: options.port ?? 8787 })
    stops.set('server', () => server.close())
    const endpointUrl = `${server.url}/dispatch`
    handler = createConsoleRoutes({
      config: { endpoint: endpointUrl, mesa: mesa.url, namespace, sync: true, token },
      clients,
      feed,
      endpoint: (request) => edge.fetch(request, bindings),
    })

    return {
      consoleUrl: `${server.url}/`,
      endpointUrl,
      mesaUrl: mesa.url,
      redisUrl,
      restUrl: gateway.url,
      restToken: gateway.token,
      startedRedis: !options.redisUrl,
      token,
      namespace,
      clients,
      close,
    }
  } catch (error) {
    await close().catch(() => undefined)
    throw error
  }
}
