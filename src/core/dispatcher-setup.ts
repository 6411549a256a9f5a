import type { Redis } from '@upstash/redis'
import { createClientRunner, createTcpRunner, isIORedisLike, isRedisUrl } from '#tcp-transport'
import { ConfigError } from '../errors.js'
import {
  DEFAULT_DEDUPE_TTL_SECONDS,
  DEFAULT_MAX_BACKLOG_PAGE_BYTES,
  DEFAULT_MAX_BACKLOG_READ_BYTES,
  DEFAULT_MAX_RECIPIENTS,
  DEFAULT_MAX_REQUEST_BYTES,
  DEFAULT_MAX_WRITE_BYTES,
  DEFAULT_SYNC_MAX_AGE_SECONDS,
  DEFAULT_SYNC_MAX_BYTES,
  DEFAULT_SYNC_MAX_MESSAGES,
  MAX_BACKLOG_PAGE_BYTES_LIMIT,
  MIN_BACKLOG_PAGE_BYTES,
  MIN_REQUEST_BYTES,
} from '../limits.js'
import type { StoreLimits } from '../script/protocol.js'
import type { IORedisLike } from '../transport/ioredis-like.js'
import type { RestConnection } from '../transport/rest.js'
import { createRestRunner, type ScriptRunner } from '../transport/runner.js'
import type { DispatcherConfig } from './types.js'

// What a Dispatcher is built from: its settings, each checked and defaulted, and the runner its target calls for.

/**
 * Where a Dispatcher sends its script: an Upstash REST endpoint (`{ url, token }`), an existing `Redis` from
 * `@upstash/redis`, a `redis://` / `rediss://` URL for a TCP connection through the optional ioredis, or an
 * ioredis client the server already holds (`IORedisLike`), which the Dispatcher uses and never closes.
 */
export type RedisTarget = RestConnection | Redis | IORedisLike | string

/** The offline store's caps, the write budget of one script call, and the bounds the Dispatcher itself keeps. */
export type DispatcherLimits = StoreLimits & { readonly maxAgeSeconds: number; readonly maxRequestBytes: number }

/** A DispatcherConfig with every default applied and every value checked. */
export interface DispatcherSettings {
  readonly sync: boolean
  readonly dedupeTtlSeconds: number
  readonly maxRecipients: number
  readonly limits: DispatcherLimits
  /** The bounds of a backlog read: the bytes of one page, and of the largest value read. */
  readonly backlog: { readonly maxPageBytes: number; readonly maxReadBytes: number }
}

/** Applies the defaults of src/limits.ts to a config and checks it; a bad value throws a ConfigError naming it. */
export function readSettings(config: DispatcherConfig): DispatcherSettings {
  const sync = config.sync ?? { enabled: false }
  const limits = {
    maxMessages: nonNegativeInteger(sync.maxMessages ?? DEFAULT_SYNC_MAX_MESSAGES, 'sync.maxMessages'),
    maxBytes: nonNegativeInteger(sync.maxBytes ?? DEFAULT_SYNC_MAX_BYTES, 'sync.maxBytes'),
    maxAgeSeconds: nonNegativeInteger(sync.maxAgeSeconds ?? DEFAULT_SYNC_MAX_AGE_SECONDS, 'sync.maxAgeSeconds'),
    maxWriteBytes: positiveInteger(config.maxWriteBytes ?? DEFAULT_MAX_WRITE_BYTES, 'maxWriteBytes'),
    maxRequestBytes: atLeast(config.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES, MIN_REQUEST_BYTES, 'maxRequestBytes'),
  }
  if (!isWriteBudgetEnough(limits.maxWriteBytes, limits.maxBytes)) {
    throw new ConfigError('maxWriteBytes', `must be at least sync.maxBytes (${limits.maxBytes}), ${WRITE_BUDGET_REASON}`)
  }
  return {
    sync: sync.enabled === true,
    dedupeTtlSeconds: positiveInteger(config.dedupeTtlSeconds ?? DEFAULT_DEDUPE_TTL_SECONDS, 'dedupeTtlSeconds'),
    maxRecipients: positiveInteger(config.maxRecipients ?? DEFAULT_MAX_RECIPIENTS, 'maxRecipients'),
    limits,
    backlog: {
      maxPageBytes: integerIn(
        config.maxBacklogPageBytes ?? DEFAULT_MAX_BACKLOG_PAGE_BYTES,
        'maxBacklogPageBytes',
        MIN_BACKLOG_PAGE_BYTES,
        MAX_BACKLOG_PAGE_BYTES_LIMIT,
      ),
      maxReadBytes: positiveInteger(config.maxBacklogReadBytes ?? DEFAULT_MAX_BACKLOG_READ_BYTES, 'maxBacklogReadBytes'),
    },
  }
}

/** Why the write budget must hold a whole backlog, as a ConfigError says it. */
export const WRITE_BUDGET_REASON = 'or no backlog at its cap could be written'

/** Whether one script call's write budget (`maxWriteBytes`) can hold a backlog at its cap (`sync.maxBytes`). */
export function isWriteBudgetEnough(maxWriteBytes: number, syncMaxBytes: number): boolean {
  return syncMaxBytes <= maxWriteBytes
}

/** The runner for a target: TCP for a redis:// URL or an ioredis client (none at the edge), REST otherwise. */
export function createRunner(redis: RedisTarget): ScriptRunner {
  if (isRedisUrl(redis)) return createTcpRunner(redis)
  if (typeof redis === 'string') {
    // Named by its type, IORedisLike: the package's name would be a reference to it in the edge bundle.
    throw new ConfigError('redis', 'must be { url, token } for an Upstash REST endpoint, a Redis from @upstash/redis, a redis:// URL or an IORedisLike client')
  }
  return isIORedisLike(redis) ? createClientRunner(redis) : createRestRunner(redis)
}

function atLeast(value: number, min: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < min) throw new ConfigError(name, `must be an integer of at least ${min}`)
  return value
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw new ConfigError(name, 'must be a positive integer')
  return value
}

function nonNegativeInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new ConfigError(name, 'must be an integer of at least 0')
  return value
}

function integerIn(value: number, name: string, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) throw new ConfigError(name, `must be an integer from ${min} to ${max}`)
  return value
}
