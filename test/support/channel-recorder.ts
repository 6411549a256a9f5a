import { Redis } from 'ioredis'
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
  const messages: string[] = []
  const listeners = new Set<() => void>()
  subscriber.on('message', (from: string, payload: string) => {
    if (from !== channel) return
    messages.push(payload)
    for (const listener of listeners) listener()
  })
  try {
    // SUBSCRIBE answers only once Redis has registered us, so nothing published afterwards is missed.
    await subscriber.subscribe(channel)
  } catch (error) {
    subscriber.disconnect()
    throw error
  }

  return {
    messages,
    waitFor: (n, timeoutMs = 5_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (messages.length < n) return
          done()
          resolve(messages.slice(0, n))
        }
        const timer = setTimeout(() => {
          done()
          reject(new Error(`expected ${n} payload(s) on ${channel} within ${timeoutMs} ms, got ${messages.length}: ${messages.join(' ') || '(none)'}`))
        }, timeoutMs)
        const done = () => {
          clearTimeout(timer)
          listeners.delete(check)
        }
        listeners.add(check)
        check()
      }),
    close: () => release(subscriber),
  }
}
