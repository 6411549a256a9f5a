import { Redis, ReplyError } from 'ioredis'
import type { RedisCommand } from './commands'

/** Thrown when Redis cannot be reached, as opposed to Redis answering with an error reply. */
export class RedisUnavailable extends Error {
  override readonly name = 'RedisUnavailable'
}

/** One settled command: its raw Buffer-mode reply, or the Redis error message. */
export type Outcome = { ok: true; reply: unknown } | { ok: false; error: string }

// ioredis rewrites replies and arguments of these lowercase names (HGETALL into an object, HSET with a Buffer
// argument into field/value pairs); an uppercase name skips its transformer table and Redis does not care.
const TRANSFORMED = new Set(['hgetall', 'hset', 'hmset', 'mset', 'msetnx'])

/** Opens the single shared ioredis connection, failing fast when Redis is down and reconnecting on its own. */
export async function connectRedis(url: string): Promise<{ redis: Redis; commandNames: Set<string> | undefined }> {
  const redis = new Redis(url, {
    lazyConnect: true,
    // Commands sent while disconnected must fail now (503), not queue until Redis returns.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (attempt) => Math.min(attempt * 50, 500),
  })
  // Without a listener ioredis prints every failed reconnect attempt; the 503 responses already report outages.
  let lastError: Error | undefined
  redis.on('error', (error: Error) => (lastError = error))
  try {
    await redis.connect()
  } catch (error) {
    redis.disconnect()
    // connect() only says "Connection is closed."; the error event carries the cause, e.g. ECONNREFUSED.
    throw new Error(`Upstash gateway cannot reach Redis at ${url}: ${(lastError ?? (error as Error)).message}`)
  }
  // COMMAND LIST exists since Redis 7; older servers just get no 404s for unknown path-style commands.
  const names = (await redis.call('COMMAND', 'LIST').catch(() => undefined)) as string[] | undefined
  return { redis, commandNames: names && new Set(names.map((name) => name.toLowerCase())) }
}

/** Sends one command and resolves with its raw reply; rejects with a ReplyError or RedisUnavailable. */
export function send(redis: Redis, command: RedisCommand): Promise<unknown> {
  const name = TRANSFORMED.has(command[0]) ? command[0].toUpperCase() : command[0]
  return redis.callBuffer(name, command.slice(1)).catch(rethrow)
}

/** Runs commands back to back without atomicity, settling each on its own; a string is a command already refused with that message. */
export async function pipeline(redis: Redis, commands: (RedisCommand | string)[]): Promise<Outcome[]> {
  const settled = await Promise.allSettled(
    commands.map((command) => (typeof command === 'string' ? Promise.reject(new ReplyError(command)) : send(redis, command))),
  )
  return settled.map(toOutcome)
}

/** Runs commands inside MULTI/EXEC, resolving per-command outcomes or rejecting with EXECABORT's reason. */
export async function transaction(redis: Redis, commands: RedisCommand[]): Promise<Outcome[]> {
  // All writes happen in this synchronous block, so no other caller's command can land between MULTI and EXEC.
  const queued = [redis.callBuffer('MULTI').catch(rethrow), ...commands.map((command) => send(redis, command))]
  const exec = redis.callBuffer('EXEC').then(
    (value) => ({ value }),
    (error: unknown) => ({ error: isReplyError(error) ? error : new RedisUnavailable(`Redis is unavailable: ${(error as Error).message}`) }),
  )
  const [queueing, replies] = await Promise.all([Promise.allSettled(queued), exec])
  if ('error' in replies) {
    const cause = queueing.find((entry) => entry.status === 'rejected')
    const detail = cause?.status === 'rejected' ? ` (${(cause.reason as Error).message.trim()})` : ''
    throw isReplyError(replies.error) ? new ReplyError(`${replies.error.message}${detail}`) : replies.error
  }
  return (replies.value as unknown[]).map((reply) => (reply instanceof Error ? { ok: false, error: reply.message } : { ok: true, reply }))
}

/** Tells a Redis error reply (HTTP 400) apart from everything else. */
export function isReplyError(error: unknown): error is Error {
  return error instanceof ReplyError
}

function toOutcome(entry: PromiseSettledResult<unknown>): Outcome {
  if (entry.status === 'fulfilled') return { ok: true, reply: entry.value }
  if (entry.reason instanceof RedisUnavailable) throw entry.reason
  return { ok: false, error: (entry.reason as Error).message }
}

function rethrow(error: unknown): never {
  if (error instanceof ReplyError) throw error
  throw new RedisUnavailable(`Redis is unavailable: ${(error as Error).message}`)
}
