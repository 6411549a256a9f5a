import { Redis as IORedis } from 'ioredis'
import { release } from '../dev/mesa-server'
import { type RedisServer, startRedisServer } from '../dev/redis-server'
import { startGateway, type UpstashGateway } from '../dev/upstash-gateway'
import { startDelayProxy } from '../test/support/delay-proxy'
import { type BundleSession, runBundle } from '../test/support/lambda-bundle'

/** The token the rig's gateway demands; it guards nothing but loopback. */
const TOKEN = 'bench-start-token'

/** A redis-server and the Upstash gateway in front of it, which notes when each request reached it. */
export interface StartRig {
  redis: RedisServer
  gateway: UpstashGateway
  admin: IORedis
  /** Epoch milliseconds (with a fraction) at which each request reached the gateway. */
  requestsAt: number[]
  close(): Promise<void>
}

/** Starts the rig; each measured start puts a delaying proxy of its own in front of the gateway. */
export async function startStartRig(): Promise<StartRig> {
  const redis = await startRedisServer()
  const requestsAt: number[] = []
  const gateway = await startGateway({
    redisUrl: redis.url,
    token: TOKEN,
    intercept: () => {
      requestsAt.push(performance.timeOrigin + performance.now())
      return false
    },
  })
  const admin = new IORedis(redis.url)
  return {
    redis,
    gateway,
    admin,
    requestsAt,
    async close() {
      await release(admin)
      await gateway.close()
      await redis.stop()
    },
  }
}

/** One step of a start (the init, or an invocation): how long it took, and what it cost in requests and new connections. */
export interface StepCost {
  ms: number
  /** Requests that reached the gateway while the step ran. */
  requests: number
  /** Connections the proxy accepted while the step ran: each one a handshake. */
  connections: number
}

/** What one fresh execution environment cost, from the process's start to each answer. */
export interface StartSample {
  init: StepCost
  /** Milliseconds from the process's start to the end of the init. */
  initEnd: number
  invocations: StepCost[]
  /** Milliseconds from the process's start to the first invocation's answer: the on-demand cold start. */
  firstAnswer: number
  /** What each invocation returned, for the caller to check that it did the work. */
  results: unknown[]
}

/** How to start one execution environment. */
export interface StartOptions {
  /** Milliseconds the proxy holds every chunk each way: the round trip is twice this. */
  delayMs: number
  /** The function's env besides the Redis URL and token (which point at the proxy). */
  env: Record<string, string>
  events: unknown[]
  /** NODE_OPTIONS as deployed. */
  nodeOptions: string
  /** How long the instance idles after its init and between invocations, as a provisioned one does. @default 0 */
  idleMs?: number
}

/**
 * Starts a bundle in a fresh process of the Lambda runtime's Node, as deployed (no test preloads), with a proxy
 * delaying each way by `delayMs` between it and the gateway, and counts what its init and each invocation cost.
 */
export async function measureStart(rig: StartRig, file: string, options: StartOptions): Promise<StartSample> {
  const proxy = await startDelayProxy({ host: '127.0.0.1', port: rig.gateway.port }, options.delayMs)
  try {
    const env = { ...options.env, UPSTASH_REDIS_REST_URL: proxy.url, UPSTASH_REDIS_REST_TOKEN: TOKEN }
    const session = await runBundle(file, options.events, env, {
      offlineGuard: false,
      nodeOptions: options.nodeOptions,
      idleMs: options.idleMs ?? 0,
    })
    return costsOf(session, rig.requestsAt, proxy.acceptedAt)
  } finally {
    await proxy.close()
  }
}

function costsOf(session: BundleSession, requestsAt: number[], acceptedAt: readonly number[]): StartSample {
  const { init } = session
  if ('initError' in init) throw new Error(`the bundle failed its init: ${init.initError.name}: ${init.initError.message}\n${session.stdout}`)
  const origin = init.timeOrigin
  const during = (times: readonly number[], start: number, end: number) => times.filter((at) => at >= origin + start && at <= origin + end).length
  const step = (start: number, end: number): StepCost => ({
    ms: end - start,
    requests: during(requestsAt, start, end),
    connections: during(acceptedAt, start, end),
  })
  const thrown = session.invocations.find((each) => 'thrown' in each)
  if (thrown && 'thrown' in thrown) throw new Error(`an invocation threw ${thrown.thrown.name}: ${thrown.thrown.message}\n${session.stdout}`)
  return {
    init: step(init.initStart, init.initEnd),
    initEnd: init.initEnd,
    invocations: session.invocations.map((each) => step(each.start, each.end)),
    firstAnswer: session.invocations[0]!.end,
    results: session.invocations.map((each) => ('result' in each ? each.result : undefined)),
  }
}
