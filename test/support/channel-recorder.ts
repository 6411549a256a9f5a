import { Redis } from 'ioredis'
import { createArrivals } from './arrivals'
import { release } from './mesa-server'

/** The raw payloads published on one Redis channel, in the order Redis delivered them. */
export interface ChannelRecorder {
  messages: string[]
  /** Resolves with the first n payloads, or rejects listing what did arrive. */
  waitFor(n: number, timeoutMs?: number): Promise<string[]>
  close(): Promise<void>
}

/** Subscribes to `channel` (e.g. `ws` or `ws_api`) and records every payload string, for byte-exact checks. */
export async function recordChannel(redisUrl: string, channel: string): Promise<ChannelRecorder> {
  const subscriber = new Redis(redisUrl, { maxRetriesPerRequest: 1 })
  const arrivals = createArrivals<string>()
  subscriber.on('message', (from: string, payload: string) => {
    if (from === channel) arrivals.push(payload)
  })
  try {
    // SUBSCRIBE answers only once Redis has registered us, so nothing published afterwards is missed.
    await subscriber.subscribe(channel)
  } catch (error) {
    subscriber.disconnect()
    throw error
  }

  return {
    messages: arrivals.items,
    waitFor: (n, timeoutMs = 5_000) =>
      arrivals.waitFor(n, timeoutMs, () => `${arrivals.items.length} payload(s) on ${channel}: ${arrivals.items.join(' ') || '(none)'}`),
    close: () => release(subscriber),
  }
}
