import type { Redis } from 'ioredis'
import { Dispatcher, Message } from '../../src/index'
import { DEFAULT_SYNC_MAX_BYTES, DEFAULT_SYNC_MAX_MESSAGES } from '../../src/limits'
import { backlog } from '../cases/offline-store'
import { measureRedisTime } from '../redis-stats'

const NAMESPACE = 'cost'
const WIDE = 1000

/** Redis's own time (EVALSHA, INFO commandstats) of a dispatch and of each recipient it adds, in µs. */
export interface RecipientCost {
  /** A dispatch to one online recipient: what every dispatch costs whatever its recipients. */
  dispatch: number
  /** Each further recipient who is online. */
  online: number
  /** Each further recipient who is offline with an empty backlog. */
  offline: number
  /** A recipient whose backlog is at both default caps: the oldest message dropped and the rest rewritten. */
  offlineAtCaps: number
}

/**
 * Measures what a recipient costs Redis, sync on, one shape at a time over `rounds` dispatches: one online
 * recipient, 1,000 online ones, 1,000 offline ones with empty backlogs (new ones each round), and one offline
 * recipient kept at the default caps (each dispatch drops its oldest message and appends one).
 */
export async function measureRecipientCost(redisUrl: string, admin: Redis, rounds: number): Promise<RecipientCost> {
  const dispatcher = new Dispatcher(redisUrl, { namespace: NAMESPACE, sync: { enabled: true } })
  try {
    const message = new Message(0, { id: 'cost', text: 'a message from the load run' }, 'LOAD')
    const online = Array.from({ length: WIDE }, (_, k) => `on-${k}`)
    await admin.sadd(`connected_clients_${NAMESPACE}`, ...online)
    const full = backlog(DEFAULT_SYNC_MAX_MESSAGES, Math.floor(DEFAULT_SYNC_MAX_BYTES / DEFAULT_SYNC_MAX_MESSAGES) - 1)
    await admin.hset(`undelivered_messages_${NAMESPACE}`, 'capped', full.value)
    await admin.hset(`mesa_dispatch_backlogs_${NAMESPACE}`, 'capped', full.index)
    const perCall = async (recipients: (round: number) => string[]) => {
      await dispatcher.dispatch(message, recipients(-1))
      const stats = await measureRedisTime(admin, async () => {
        for (let round = 0; round < rounds; round++) await dispatcher.dispatch(message, recipients(round))
      })
      return stats.evalsha?.usecPerCall ?? Number.NaN
    }
    const one = await perCall(() => [online[0]!])
    const wideOnline = await perCall(() => online)
    const wideOffline = await perCall((round) => online.map((_, k) => `off-${round}-${k}`))
    const capped = await perCall(() => ['capped'])
    return {
      dispatch: one,
      online: (wideOnline - one) / (WIDE - 1),
      offline: (wideOffline - one) / (WIDE - 1),
      offlineAtCaps: capped - one,
    }
  } finally {
    await dispatcher.close()
  }
}
