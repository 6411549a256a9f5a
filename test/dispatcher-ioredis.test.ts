import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { build } from 'esbuild'
import { Cluster, Redis as IORedis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError, Dispatcher, Message } from '../src/index'
import { useCleanup } from './support/cleanup'
import { connectMesaClient } from './support/mesa-client'
import { type MesaServer, release, startMesaServer } from './support/mesa-server'
import { ROOT } from './support/serverless-cli'
import { useStack } from './support/stack'

// A server that already holds an ioredis client hands it over, as @socket.io/redis-emitter takes the app's client,
// instead of a redis:// URL that opens a second connection. Real redis-server, real Mesa 1.5.8, real ioredis.
const stack = useStack()
const open = useCleanup()
let client: IORedis
let namespace: string
let mesa: MesaServer

beforeAll(async () => {
  client = new IORedis(stack.redis.url)
  namespace = stack.freshNamespace()
  mesa = await startMesaServer({ redisUrl: stack.redis.url, namespace })
})
afterAll(async () => {
  await mesa.close()
  await release(client)
})

const note = (n: number) => new Message(0, { n }, 'NOTE')
const connections = async () =>
  String(await stack.admin.client('LIST'))
    .trim()
    .split('\n').length
/** How often Redis has run EVALSHA and EVAL so far; its `calls` include the failed ones (NOSCRIPT). */
async function scriptCalls(): Promise<{ evalsha: number; eval: number }> {
  const stats = await stack.admin.info('commandstats')
  const count = (command: string) => {
    const match = new RegExp(`cmdstat_${command}:calls=(\\d+),`).exec(stats)
    return match ? Number(match[1]) : 0
  }
  return { evalsha: count('evalsha'), eval: count('eval') }
}
/** The ConfigError `make` throws, as plain fields; `type` is the class of the build under test. */
const configErrorOf = (make: () => unknown, type: typeof ConfigError = ConfigError) => {
  try {
    make()
  } catch (error) {
    if (error instanceof type) return { name: error.name, variable: error.variable, message: error.message }
    throw error
  }
  throw new Error('expected a ConfigError')
}

describe('Dispatcher over an ioredis client the server already holds', () => {
  it('delivers a dispatch to a Mesa client, sending the script by SHA and its text once when Redis lacks it', async () => {
    const a = open(await connectMesaClient(mesa.url, 'a'))
    const dispatcher = new Dispatcher(client, { namespace, sync: { enabled: true } })
    await stack.admin.script('FLUSH')
    const before = await scriptCalls()

    const first = await dispatcher.dispatch(note(1), ['a', 'offline'])
    const afterFirst = await scriptCalls()
    await dispatcher.dispatch(note(2), ['a'])
    const afterSecond = await scriptCalls()

    expect(first).toEqual({
      servers: 1,
      recipients: ['a'],
      online: ['a'],
      offline: ['offline'],
      unstored: [],
      stored: 1,
      dropped: 0,
      duplicate: false,
      excludingIgnored: false,
    })
    await a.waitForMessages(2)
    expect(a.raw).toEqual(['{"op":0,"d":{"n":1},"t":"NOTE"}', '{"op":0,"d":{"n":2},"t":"NOTE"}'])
    expect([
      afterFirst.evalsha - before.evalsha,
      afterFirst.eval - before.eval,
      afterSecond.evalsha - afterFirst.evalsha,
      afterSecond.eval - afterFirst.eval,
    ]).toEqual([1, 1, 1, 0])
  })

  it('leaves the client connected after close(), having applied the dispatches issued before it', async () => {
    const a = open(await connectMesaClient(mesa.url, 'a'))
    const dispatcher = new Dispatcher(client, { namespace, sync: { enabled: true } })
    const before = await connections()

    const pending = [dispatcher.dispatch(note(1), ['a']), dispatcher.dispatch(note(2), ['a'])]
    await dispatcher.close()
    const settled = (await Promise.all(pending)).map((result) => result.online)
    // Given the moment a QUIT would need to drop the connection, which the count would then miss.
    await new Promise((resolve) => setTimeout(resolve, 200))

    expect({ settled, connections: await connections(), status: client.status, ping: await client.ping() }).toEqual({
      settled: [['a'], ['a']],
      connections: before,
      status: 'ready',
      ping: 'PONG',
    })
    expect(await a.waitForMessages(2)).toEqual([
      { op: 0, d: { n: 1 }, t: 'NOTE' },
      { op: 0, d: { n: 2 }, t: 'NOTE' },
    ])
  })

  it('refuses a Cluster client, or one with a keyPrefix, which would put Mesa keys where Mesa never reads them', () => {
    const cluster = new Cluster([{ host: '127.0.0.1', port: stack.redis.port }], { lazyConnect: true })
    const prefixed = new IORedis(stack.redis.url, { lazyConnect: true, keyPrefix: 'app:' })

    const refusals = [configErrorOf(() => new Dispatcher(cluster)), configErrorOf(() => new Dispatcher(prefixed))]
    cluster.disconnect()
    prefixed.disconnect()

    expect(refusals).toEqual([
      {
        name: 'ConfigError',
        variable: 'redis',
        message:
          "redis is a Redis Cluster client, which cannot run the dispatch script, whose keys lie in different hash slots: pass a client of the single Redis Mesa's servers use",
      },
      {
        name: 'ConfigError',
        variable: 'redis',
        message: "redis is a client with a keyPrefix, which would move Mesa's keys where Mesa's servers never read them: pass a client without one",
      },
    ])
  })

  it('is refused by the edge build, which carries no TCP transport', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mesa-edge-ioredis-'))
    try {
      const file = join(dir, 'index.mjs')
      await build({
        entryPoints: [join(ROOT, 'src/index.ts')],
        bundle: true,
        platform: 'browser',
        format: 'esm',
        conditions: ['workerd', 'worker', 'browser'],
        outfile: file,
        logLevel: 'silent',
      })
      const edge = (await import(pathToFileURL(file).href)) as typeof import('../src/index')

      expect(configErrorOf(() => new edge.Dispatcher(client), edge.ConfigError)).toEqual({
        name: 'ConfigError',
        variable: 'redis',
        message: 'redis is a TCP Redis client, which edge runtimes cannot use: pass { url, token } of an Upstash REST endpoint',
      })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
