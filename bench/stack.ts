import { Redis as UpstashRedis } from '@upstash/redis'
import { Redis as IORedis } from 'ioredis'
import { type MesaServer, type MesaServerOptions, release, startMesaServer } from '../dev/mesa-server'
import { type RedisServer, startRedisServer } from '../dev/redis-server'
import { startGateway, type UpstashGateway } from '../dev/upstash-gateway'
import { Dispatcher, type DispatcherConfig, type RestConnection } from '../src/index'
import { createMesaDispatcher, type MesaDispatcher, type MesaDispatcherConfig } from '../test/support/mesa-dispatcher'

/** The token the local gateway demands; it guards nothing but loopback. */
const GATEWAY_TOKEN = 'bench-gateway-token'

/** The real parts every case shares, and everything the cases open, so that one close() stops it all. */
export interface BenchStack {
  redis: RedisServer
  gateway: UpstashGateway
  /** A plain TCP client for arranging and inspecting Redis state, outside any timing. */
  admin: IORedis
  /** How our Dispatcher and the bare @upstash/redis clients reach the gateway. */
  connection: RestConnection
  /** Our Dispatcher over REST through the gateway, or over TCP with a redis:// URL. */
  dispatcher(config?: DispatcherConfig, transport?: 'rest' | 'tcp'): Dispatcher
  /** A bare @upstash/redis client on the same gateway, with or without its auto-pipelining. */
  upstash(autoPipelining: boolean): UpstashRedis
  /** A bare ioredis client on the same redis-server. */
  ioredis(): IORedis
  /** Mesa 1.5.8's own Dispatcher, wrapped so its fire-and-forget work can be awaited. */
  mesaDispatcher(config?: MesaDispatcherConfig): MesaDispatcher
  /** A real Mesa 1.5.8 server on the same redis-server. */
  mesaServer(options: Omit<MesaServerOptions, 'redisUrl'>): Promise<MesaServer>
  /** Registers something else to close when the stack closes. */
  onClose(close: () => Promise<unknown>): void
  /** Closes everything, newest first, then stops the gateway and redis-server. */
  close(): Promise<void>
}

/** Starts redis-server on a free port and the local Upstash gateway in front of it. */
export async function startBenchStack(): Promise<BenchStack> {
  const redis = await startRedisServer()
  const closers: Array<() => Promise<unknown>> = [() => redis.stop()]
  try {
    const gateway = await startGateway({ redisUrl: redis.url, token: GATEWAY_TOKEN })
    closers.push(() => gateway.close())
    const admin = new IORedis(redis.url)
    closers.push(() => release(admin))
    // The bench never times out a request on purpose; retries stay at the deployed default.
    const connection: RestConnection = { url: gateway.url, token: GATEWAY_TOKEN }
    const onClose = (close: () => Promise<unknown>) => void closers.push(close)
    return {
      redis,
      gateway,
      admin,
      connection,
      onClose,
      dispatcher(config, transport = 'rest') {
        const dispatcher = new Dispatcher(transport === 'rest' ? connection : redis.url, config)
        onClose(() => dispatcher.close())
        return dispatcher
      },
      upstash: (autoPipelining) => new UpstashRedis({ url: gateway.url, token: GATEWAY_TOKEN, enableAutoPipelining: autoPipelining }),
      ioredis() {
        const client = new IORedis(redis.url)
        onClose(() => release(client))
        return client
      },
      mesaDispatcher(config) {
        const mesa = createMesaDispatcher(redis.url, config)
        onClose(() => mesa.close())
        return mesa
      },
      async mesaServer(options) {
        const server = await startMesaServer({ ...options, redisUrl: redis.url })
        onClose(() => server.close())
        return server
      },
      close: () => closeAll(closers),
    }
  } catch (error) {
    await closeAll(closers)
    throw error
  }
}

async function closeAll(closers: Array<() => Promise<unknown>>): Promise<void> {
  const failures: unknown[] = []
  for (const close of closers.splice(0).reverse()) await close().catch((error: unknown) => failures.push(error))
  if (failures.length > 0) throw new AggregateError(failures, 'closing the bench stack failed')
}
