import type { EventEmitter } from 'node:events'
import http from 'node:http'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'

// `import mesa from '@cryb/mesa'` yields the whole CJS exports object at run time while its
// .d.ts types the default import as the Server class, so load it with require and type it honestly.
const mesa = createRequire(import.meta.url)('@cryb/mesa') as typeof import('@cryb/mesa')
type MesaCoreServer = InstanceType<typeof mesa.default>

/** The few ioredis (v4, Mesa's own copy) members this harness touches. */
interface MesaRedis {
  status: string
  quit(): Promise<unknown>
  disconnect(): void
  subscribe(...channels: string[]): Promise<unknown>
  on(event: 'error', listener: (error: Error) => void): unknown
}

/** A running Mesa 1.5.8 server on a loopback port, backed by a real Redis. */
export interface MesaServer {
  url: string
  port: number
  namespace?: string
  redisUrl: string
  /** Errors Mesa emitted (it throws on an 'error' event nobody listens to, so the harness listens). */
  errors: Error[]
  /** Closes every socket, waits for Mesa's disconnect bookkeeping, then releases its three Redis clients. */
  close(): Promise<void>
}

export interface MesaServerOptions {
  redisUrl: string
  namespace?: string
  sync?: boolean
  /** Defaults to a free port, chosen by listening on port 0. */
  port?: number
  /** Defaults to 127.0.0.1. */
  host?: string
  /** Hears each error as it is kept in `errors`, e.g. to print it in the dev stack. */
  onError?: (error: Error) => void
}

/** Where each running server keeps its state, so clients can check the online set without extra arguments. */
const running = new Map<string, { redisUrl: string; namespace?: string }>()

/** Looks up the Redis URL and namespace of a server started by `startMesaServer`, by its ws:// URL. */
export function mesaServerAt(url: string): { redisUrl: string; namespace?: string } | undefined {
  return running.get(url)
}

/** Names a Redis key the way Mesa does: `name` or `name_<namespace>`. */
export function mesaKey(name: string, namespace?: string): string {
  return namespace ? `${name}_${namespace}` : name
}

/** Starts a real `@cryb/mesa` Server that authenticates each client with its token as its id. */
export async function startMesaServer(options: MesaServerOptions): Promise<MesaServer> {
  const { redisUrl, namespace, sync = true, host = '127.0.0.1' } = options
  // Listening ourselves on port 0 avoids the probe-then-bind race of picking a "free" port for Mesa.
  const httpServer = http.createServer()
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject)
    httpServer.listen(options.port ?? 0, host, () => resolve())
  })
  const port = (httpServer.address() as AddressInfo).port

  const server: MesaCoreServer = new mesa.default({
    port,
    server: httpServer,
    namespace,
    redis: redisUrl,
    sync: { enabled: sync },
    authentication: { storeConnectedUsers: true },
    gracefullyExit: false,
  })
  const errors: Error[] = []
  const keep = (error: Error) => {
    errors.push(error)
    options.onError?.(error)
  }
  const emitter: EventEmitter = server
  emitter.on('error', keep)
  server.on('connection', (client) => {
    const clientEmitter: EventEmitter = client
    clientEmitter.on('error', keep)
    client.authenticate((data: { token?: unknown } | undefined, done) => {
      const token = data?.token
      // Mesa throws from inside the socket handler on a missing id; refuse instead (it closes with 1008).
      if (typeof token !== 'string' && typeof token !== 'number') return done(new Error('token must be a string or number'))
      // A number stays a number: Mesa matches recipients with indexOf, so 7 and '7' are different clients.
      done(null, { id: token as string, user: { id: token } })
    })
  })

  const clients = [server.redis, server.publisher, server.subscriber] as unknown as MesaRedis[]
  // ioredis only logs unhandled 'error' events; keep them so a failing test can show them.
  for (const client of clients) client.on('error', keep)
  // Subscribing again on the same connection answers only after Mesa's own SUBSCRIBE did,
  // so nothing published after this resolves can miss the server.
  await (server.subscriber as unknown as MesaRedis).subscribe(mesaKey('ws', namespace))

  const url = `ws://${host}:${port}`
  running.set(url, { redisUrl, namespace })
  let closing: Promise<void> | undefined
  return {
    url,
    port,
    namespace,
    redisUrl,
    errors,
    close: () => (closing ??= closeServer(server, httpServer, clients).finally(() => running.delete(url))),
  }
}

async function closeServer(server: MesaCoreServer, httpServer: http.Server, clients: MesaRedis[]): Promise<void> {
  // ws 7's close() terminates every client socket; Mesa then SREMs each id from its 'close' handler.
  await new Promise<void>((resolve) => server.wss.close(() => resolve()))
  await waitFor(() => server.clients.length === 0, 'Mesa to register every disconnection')
  httpServer.closeAllConnections()
  await new Promise<void>((resolve) => httpServer.close(() => resolve()))
  // QUIT runs after the SREM/DECR Mesa already queued on the same connection, so they are not lost.
  await Promise.all(clients.map(release))
}

/** Quits an ioredis client, or drops it at once if it is not connected (QUIT would wait for a reconnect). */
export async function release(client: { status: string; quit(): Promise<unknown>; disconnect(): void }): Promise<void> {
  if (client.status === 'ready') await client.quit().catch(() => undefined)
  client.disconnect()
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}
