import type { Redis } from '@upstash/redis'
import { MesaDispatchError, RedisCommandError, RedisUnavailableError } from '../errors.js'
import { isNoScript, isPartlyPublished, type LuaScript, scriptSha1, scriptSource } from '../script/lua-script.js'
import { createRestRedis, createRestRequester, isUpstashRedis, type RestConnection } from './rest.js'

/** Runs this package's Lua scripts (src/script/scripts.ts) over some connection to Redis, one call per run. */
export interface ScriptRunner {
  /** Runs a script with these KEYS and ARGV; rejects with RedisUnavailableError or RedisCommandError. */
  run(script: LuaScript, keys: string[], args: string[]): Promise<unknown>
  /** Releases the connection, if the transport holds one. */
  close(): Promise<void>
  /** Whether it sends the scripts under Upstash's key-locking shebang (RestConnection's `keyLocking`), which a request's size counts. */
  readonly keyLocking: boolean
}

/**
 * Runs scripts over Redis's HTTP API through `@upstash/redis`: EVALSHA, and EVAL once when Redis lacks the script;
 * each in its key-locking form when the connection asks for it (`keyLocking`, which a client of @upstash/redis given
 * as is cannot carry).
 */
export function createRestRunner(redis: Redis | RestConnection): ScriptRunner {
  const client = isUpstashRedis(redis) ? redis : createRestRedis(redis)
  const keyLocking = !isUpstashRedis(redis) && redis.keyLocking === true
  return {
    keyLocking,
    async run(script, keys, args) {
      try {
        try {
          return await client.evalsha(scriptSha1(script, keyLocking), keys, args)
        } catch (error) {
          if (!isNoScript(error)) throw error
          return await client.eval(await scriptSource(script, keyLocking), keys, args)
        }
      } catch (error) {
        throw toRedisError(error)
      }
    },
    // Every request is its own fetch: there is nothing to release.
    close: async () => {},
  }
}

/**
 * Makes sure Redis's script cache holds `scripts` in the form the connection sends them (`keyLocking`): one SCRIPT
 * EXISTS for all of them, then one SCRIPT LOAD for each that is missing, whose text is inflated only then. Resolves with the names of those it loaded; rejects with
 * RedisUnavailableError or RedisCommandError. It goes straight through the transport: a client of @upstash/redis
 * sets up some 400 command methods when it is built, which a Lambda init would pay for two commands.
 */
export async function loadScripts(connection: RestConnection, scripts: readonly LuaScript[]): Promise<string[]> {
  const requester = createRestRequester(connection)
  const send = async <T>(command: string[]): Promise<T> => {
    const answer = await requester.request<T>({ body: command })
    if (answer.error !== undefined) throw new RedisCommandError(`Redis answered an error: ${answer.error}`)
    return answer.result as T
  }
  try {
    const keyLocking = connection.keyLocking === true
    const held = await send<number[]>(['SCRIPT', 'EXISTS', ...scripts.map((script) => scriptSha1(script, keyLocking))])
    const missing = scripts.filter((_, i) => Number(held[i]) !== 1)
    for (const script of missing) await send(['SCRIPT', 'LOAD', await scriptSource(script, keyLocking)])
    return missing.map((script) => script.name)
  } catch (error) {
    throw toRedisError(error)
  }
}

/** Maps whatever `@upstash/redis` threw onto this package's errors, without echoing the command. */
export function toRedisError(error: unknown): MesaDispatchError {
  if (error instanceof MesaDispatchError) return error
  if (error instanceof Error && error.name === 'UpstashError') {
    // @upstash/redis appends ", command was: [...]", which holds the message data, so neither that text nor
    // the original error (as `cause`) is passed on, where a logger could print it.
    const reason = error.message.split(', command was:')[0]
    return new RedisCommandError(`Redis answered an error: ${reason}`, undefined, { outcome: isPartlyPublished(error) ? 'unknown' : 'none' })
  }
  return new RedisUnavailableError('Redis could not be reached', undefined, { cause: error })
}
