import type { Redis } from '@upstash/redis'
import { MesaDispatchError, RedisCommandError, RedisUnavailableError } from './errors'
import { createRestRedis, isUpstashRedis, type RestConnection } from './rest-transport'
import { DISPATCH_SCRIPT } from './script'

/** Runs the dispatch script over some connection to Redis: one call, which may carry many dispatches, per run. */
export interface ScriptRunner {
  /** Runs the script with these KEYS and ARGV; rejects with RedisUnavailableError or RedisCommandError. */
  run(keys: string[], args: string[]): Promise<unknown>
  /** Releases the connection, if the transport holds one. */
  close(): Promise<void>
}

/** Runs the script over Redis's HTTP API through `@upstash/redis`: EVALSHA, falling back to EVAL once. */
export function createRestRunner(redis: Redis | RestConnection): ScriptRunner {
  const client = isUpstashRedis(redis) ? redis : createRestRedis(redis)
  const script = client.createScript<unknown>(DISPATCH_SCRIPT)
  return {
    async run(keys, args) {
      try {
        return await script.exec(keys, args)
      } catch (error) {
        throw toRedisError(error)
      }
    },
    // Every request is its own fetch: there is nothing to release.
    close: async () => {},
  }
}

/** Maps whatever `@upstash/redis` threw onto this package's errors, without echoing the command. */
export function toRedisError(error: unknown): MesaDispatchError {
  if (error instanceof MesaDispatchError) return error
  if (error instanceof Error && error.name === 'UpstashError') {
    // @upstash/redis appends ", command was: [...]", which holds the message data, so neither that text nor
    // the original error (as `cause`) is passed on, where a logger could print it.
    const reason = error.message.split(', command was:')[0]
    return new RedisCommandError(`Redis answered an error: ${reason}`)
  }
  return new RedisUnavailableError('Redis could not be reached', undefined, { cause: error })
}
