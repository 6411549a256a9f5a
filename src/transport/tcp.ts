import type { Redis as IORedis, RedisOptions } from 'ioredis'
import { ConfigError, type MesaDispatchError, RedisCommandError, RedisUnavailableError } from '../errors.js'
import { DEFAULT_REDIS_RETRIES, DEFAULT_REDIS_TIMEOUT_MS } from '../limits.js'
import { isNoScript, isPartlyPublished, type LuaScript, scriptText } from '../script/lua-script.js'
import type { IORedisLike } from './ioredis-like.js'
import { isRedisUrl } from './redis-url.js'
import type { ScriptRunner } from './runner.js'

export { isIORedisLike } from './ioredis-like.js'
export { isRedisUrl }

// A variable specifier keeps bundlers from following the import, so the Lambda bundles never contain ioredis:
// it is an optional peer dependency, loaded only when a Dispatcher is given a redis:// URL. Edge bundles get
// tcp-edge.ts instead, through the `#tcp-transport` import map in package.json, because workerd
// refuses a module with a dynamic import it cannot resolve.
const IOREDIS = 'ioredis'

/**
 * Runs the same dispatch script over one TCP connection through ioredis, for long-lived Node servers replacing
 * Mesa's own Dispatcher. It sends EVALSHA, and EVAL once when Redis lacks the script; auto-pipelining lets
 * concurrent script calls share a write. A dead connection fails a command after `retries` reconnect attempts,
 * instead of queueing it for ever, and each command times out after `timeoutMs`.
 */
export function createTcpRunner(url: string, options: { timeoutMs?: number; retries?: number } = {}): ScriptRunner {
  if (!isRedisUrl(url)) throw new ConfigError('redis', 'must be a redis:// or rediss:// URL')
  let client: Promise<IORedis> | undefined
  const connect = () =>
    (client ??= loadIORedis().then((Redis) => {
      const settings: RedisOptions = {
        enableAutoPipelining: true,
        maxRetriesPerRequest: options.retries ?? DEFAULT_REDIS_RETRIES,
        commandTimeout: options.timeoutMs ?? DEFAULT_REDIS_TIMEOUT_MS,
      }
      const redis = new Redis(url, settings)
      // Connection errors reach each command's promise; without a listener ioredis would also print them.
      redis.on('error', () => {})
      return redis
    }))
  return {
    // redis-server refuses Upstash's key-locking flag, and a redis:// URL has no setting that could ask for it.
    keyLocking: false,
    run: async (script, keys, args) => runScript(await connect(), script, keys, args),
    async close() {
      // A connection that never opened (ioredis missing) has nothing to quit, and every dispatch that needed it
      // was already rejected with the reason: failing close() again would only break a caller's `finally`.
      const redis = await client?.catch(() => undefined)
      await redis?.quit().catch(() => undefined)
    },
  }
}

/**
 * Runs the script over an ioredis client the caller already holds, as `@socket.io/redis-emitter` takes the app's
 * client, instead of opening a connection of its own. Its retries and timeouts are the caller's settings, and
 * close() leaves it open: the caller owns it, and may well use it after the Dispatcher is done.
 */
export function createClientRunner(client: IORedisLike): ScriptRunner {
  if (client.isCluster === true) {
    throw new ConfigError(
      'redis',
      "is a Redis Cluster client, which cannot run the dispatch script, whose keys lie in different hash slots: pass a client of the single Redis Mesa's servers use",
    )
  }
  if (client.options?.keyPrefix) {
    throw new ConfigError('redis', "is a client with a keyPrefix, which would move Mesa's keys where Mesa's servers never read them: pass a client without one")
  }
  return {
    keyLocking: false,
    run: (script, keys, args) => runScript(client, script, keys, args),
    close: async () => {},
  }
}

/** EVALSHA, and EVAL once when Redis lacks the script; failures become this package's errors. */
async function runScript(redis: IORedisLike, script: LuaScript, keys: string[], args: string[]): Promise<unknown> {
  try {
    try {
      return await redis.evalsha(script.sha1, keys.length, ...keys, ...args)
    } catch (error) {
      if (!isNoScript(error)) throw error
      return await redis.eval(await scriptText(script), keys.length, ...keys, ...args)
    }
  } catch (error) {
    throw toTcpError(error)
  }
}

async function loadIORedis(): Promise<typeof IORedis> {
  try {
    const module = (await import(/* @vite-ignore */ IOREDIS)) as typeof import('ioredis')
    return module.Redis
  } catch (error) {
    throw new ConfigError('redis', 'is a redis:// URL, which needs the optional peer dependency ioredis: npm install ioredis', { cause: error })
  }
}

function toTcpError(error: unknown): MesaDispatchError {
  // ioredis names Redis's own error answers ReplyError: nothing applied, unless the script says it published some.
  if (error instanceof Error && error.name === 'ReplyError') {
    return new RedisCommandError(`Redis answered an error: ${error.message}`, undefined, { outcome: isPartlyPublished(error) ? 'unknown' : 'none' })
  }
  // Anything else is the connection failing, before or after the command was written (ioredis may even resend it
  // after reconnecting): its outcome is unknown, which RedisUnavailableError says.
  return new RedisUnavailableError(`Redis could not be reached: ${(error as Error).message ?? 'unknown error'}`, undefined, { cause: error })
}
