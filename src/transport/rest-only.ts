import { ConfigError } from '../errors.js'
import type { IORedisLike } from './ioredis-like.js'
import type { ScriptRunner } from './runner.js'

// What `#tcp-transport` is under the `rest-only` condition, which the Lambda bundles are built with
// (esbuild.config.mjs): their functions reach Redis only at UPSTASH_REDIS_REST_URL, which src/config.ts reads as a
// REST connection, so the checks that tell a redis:// URL from other text, and the transports' own refusals, would
// be code no function runs. A TCP target given anyway is refused here, before any command, as at the edge.

/** Takes every string for a redis:// URL, which createTcpRunner refuses: a REST target is never a string. */
export const isRedisUrl = (value: unknown): value is string => typeof value === 'string'

/** Takes a target with ioredis's connection `status` for a TCP client, which createClientRunner refuses. */
export const isIORedisLike = (value: unknown): value is IORedisLike => typeof (value as { status?: unknown } | null)?.status === 'string'

/** Refuses a TCP target: this build reaches Redis over REST alone. */
export function createTcpRunner(_target: unknown): ScriptRunner {
  throw new ConfigError('redis', 'is not an Upstash REST endpoint: this build (rest-only) reaches Redis over REST alone; pass { url, token }')
}

/** Refuses a TCP client the same way. */
export const createClientRunner: (client: IORedisLike) => ScriptRunner = createTcpRunner
