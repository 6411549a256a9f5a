import { setTimeout as sleep } from 'node:timers/promises'
import type { Redis as IORedis } from 'ioredis'
import type { GatewayIntercept } from '../../dev/upstash-gateway'

/** A gateway intercept that pauses Redis for writes as the next request reaches it, and the wait for it to end. */
export interface WritePause {
  /** Pauses Redis for writes (CLIENT PAUSE 1500 WRITE) at the first request it sees, then lets every request through. */
  readonly intercept: GatewayIntercept
  /** Resolves once Redis has run what the pause held back. */
  resumed(): Promise<void>
}

/**
 * Pauses Redis for writes for 1.5 s as the next request reaches the gateway, so that the call times out at its caller
 * while Redis holds it and runs it later: a failure whose outcome is unknown, and that was in fact applied.
 */
export function pauseWritesAtNextRequest(admin: IORedis): WritePause {
  let paused = false
  return {
    intercept: async () => {
      if (!paused) {
        paused = true
        await admin.client('PAUSE', '1500', 'WRITE')
      }
      return false
    },
    async resumed() {
      // A write of our own waits behind the pause, and so runs after what Redis held.
      await admin.set(`resumed-${crypto.randomUUID()}`, '1', 'EX', 5)
      await sleep(10)
    },
  }
}
