/**
 * What the Dispatcher needs of an ioredis client (`new Redis(…)` from `ioredis`) that a server already holds,
 * written out structurally so that no type of this package names ioredis: consumers without it still type-check.
 * ioredis's `Redis` satisfies it as is.
 */
export interface IORedisLike {
  evalsha(sha1: string, numKeys: number, ...keysAndArgs: string[]): Promise<unknown>
  eval(script: string, numKeys: number, ...keysAndArgs: string[]): Promise<unknown>
  /** The connection's state, e.g. `ready`: ioredis has it and `@upstash/redis`'s client does not. */
  readonly status: string
  /** True for an ioredis `Cluster`, which cannot run the script: its keys lie in different hash slots. */
  readonly isCluster?: boolean
  /** ioredis's settings; a `keyPrefix` would move Mesa's keys and channel where Mesa never reads them. */
  readonly options?: { readonly keyPrefix?: string }
}

/** Whether a Dispatcher's first argument is an ioredis client (or one shaped like it) rather than a REST target. */
export function isIORedisLike(value: unknown): value is IORedisLike {
  const client = value as Partial<IORedisLike> | null
  return (
    typeof client === 'object' &&
    client !== null &&
    typeof client.evalsha === 'function' &&
    typeof client.eval === 'function' &&
    typeof client.status === 'string'
  )
}
