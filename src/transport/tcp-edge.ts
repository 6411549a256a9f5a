import { ConfigError } from '../errors.js'
import type { IORedisLike } from './ioredis-like.js'
import type { ScriptRunner } from './runner.js'

export { isIORedisLike } from './ioredis-like.js'
export { isRedisUrl } from './redis-url.js'

/**
 * What edge bundles get for `#tcp-transport`: Workers and other edge runtimes open no raw TCP connections to
 * Redis here, so a redis:// URL is refused with the fix, and ioredis never enters the bundle. The Lambda bundles
 * get the smaller rest-only.ts (the `rest-only` condition), since their functions only ever reach Redis at
 * UPSTASH_REDIS_REST_URL.
 */
export function createTcpRunner(_url: string): ScriptRunner {
  throw new ConfigError('redis', 'is a redis:// URL, which edge runtimes cannot use: pass { url, token } of an Upstash REST endpoint')
}

/** Nor do they hold a TCP client to hand over: one given anyway is refused the same way, before any command. */
export function createClientRunner(_client: IORedisLike): ScriptRunner {
  throw new ConfigError('redis', 'is a TCP Redis client, which edge runtimes cannot use: pass { url, token } of an Upstash REST endpoint')
}
