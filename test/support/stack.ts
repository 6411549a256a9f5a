import { Redis as IORedis } from 'ioredis'
import { afterAll, beforeAll } from 'vitest'
import { type GatewayIntercept, startGateway, type UpstashGateway } from '../../dev/upstash-gateway'
import { Dispatcher, type DispatcherConfig, type RestConnection } from '../../src/index'
import { scriptText } from '../../src/script/lua-script'
import * as scripts from '../../src/script/scripts'
import { release } from './mesa-server'
import { type RedisServer, startRedisServer } from './redis-server'

/** The real parts every Redis-backed test shares: a redis-server, the Upstash gateway in front of it, an admin client. */
export interface Stack {
  redis: RedisServer
  gateway: UpstashGateway
  /** A plain TCP client for inspecting and arranging Redis state directly. */
  admin: IORedis
  /** The REST connection our Dispatcher uses to reach the gateway. */
  connection: RestConnection
  /** A Dispatcher with the given config, over HTTP through the gateway (default) or over TCP to redis-server. */
  dispatcher(config?: DispatcherConfig, transport?: Transport): Dispatcher
  /** A namespace no other test in this file uses, so tests can share one redis-server. */
  freshNamespace(): string
  /** Counts the HTTP requests that reach the gateway while `work` runs. */
  requestsDuring(work: () => Promise<unknown>): Promise<number>
  /** Loads every script of src/script into Redis's cache, as a warm Redis has them: a count then holds no NOSCRIPT retry. */
  loadScripts(): Promise<void>
  /** The Redis part of a deployed function's env: the gateway's REST URL and token, a namespace, and sync. */
  functionEnv(namespace: string, sync?: boolean): Record<string, string>
  /** A fresh namespace, a REST Dispatcher for it (sync on unless told), and the name of its offline-store hash. */
  freshDispatcher(sync?: boolean): { namespace: string; dispatcher: Dispatcher; hash: string }
}

export const GATEWAY_TOKEN = 'test-gateway-token'

/** The two ways a Dispatcher reaches Redis. */
export type Transport = 'rest' | 'tcp'
/** Both transports, for tests that must hold over each. */
export const TRANSPORTS: Transport[] = ['rest', 'tcp']

/**
 * Starts a redis-server and the gateway before the file's tests and stops them after. The returned object is
 * filled in by beforeAll, so read it inside tests, not at module level. `intercept` lets a test inject faults
 * in front of the gateway, and `maxBodyBytes` makes it refuse larger requests, as Upstash does past 10 MB.
 */
export function useStack(options: { intercept?: GatewayIntercept; maxBodyBytes?: number } = {}): Stack {
  let namespaces = 0
  const tcpDispatchers: Dispatcher[] = []
  const stack = {
    freshNamespace: () => `t${process.pid}x${++namespaces}`,
    functionEnv(namespace: string, sync = true): Record<string, string> {
      return { UPSTASH_REDIS_REST_URL: stack.gateway.url, UPSTASH_REDIS_REST_TOKEN: GATEWAY_TOKEN, MESA_NAMESPACE: namespace, MESA_SYNC: String(sync) }
    },
    freshDispatcher(sync = true) {
      const namespace = stack.freshNamespace()
      return { namespace, dispatcher: stack.dispatcher({ namespace, sync: { enabled: sync } }), hash: `undelivered_messages_${namespace}` }
    },
    async loadScripts() {
      for (const script of Object.values(scripts)) await stack.admin.script('LOAD', await scriptText(script))
    },
    async requestsDuring(work: () => Promise<unknown>) {
      const before = stack.gateway.requests
      await work()
      return stack.gateway.requests - before
    },
    dispatcher: (config?: DispatcherConfig, transport: Transport = 'rest') => {
      if (transport === 'rest') return new Dispatcher(stack.connection, config)
      const dispatcher = new Dispatcher(stack.redis.url, config)
      tcpDispatchers.push(dispatcher)
      return dispatcher
    },
  } as Stack
  beforeAll(async () => {
    stack.redis = await startRedisServer()
    stack.gateway = await startGateway({ redisUrl: stack.redis.url, token: GATEWAY_TOKEN, intercept: options.intercept, maxBodyBytes: options.maxBodyBytes })
    stack.admin = new IORedis(stack.redis.url)
    // Outage tests stop redis-server on purpose; the admin client reconnects by itself and needs no report of it.
    stack.admin.on('error', () => {})
    stack.connection = { url: stack.gateway.url, token: GATEWAY_TOKEN, timeoutMs: 2000, retries: 1 }
  })
  afterAll(async () => {
    await Promise.all(tcpDispatchers.splice(0).map((dispatcher) => dispatcher.close()))
    await release(stack.admin)
    await stack.gateway.close()
    await stack.redis.stop()
  })
  return stack
}
