import type { Redis } from 'ioredis'

/**
 * Polls Mesa's online set until `id`'s membership is `expected`, or until `moot` says it no longer matters.
 * Mesa acknowledges a login (op 22) before its SADD reaches Redis and closes a socket before its SREM does, so
 * whoever needs "online" or "offline" to be true for a dispatcher waits on the set itself.
 */
export async function untilMember(
  redis: Redis,
  set: string,
  id: string | number,
  expected: boolean,
  timeoutMs: number,
  moot: () => boolean = () => false,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (((await redis.sismember(set, String(id))) === 1) !== expected && !moot()) {
    if (Date.now() > deadline) throw new Error(`${JSON.stringify(id)} still ${expected ? 'absent from' : 'in'} ${set} after ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
