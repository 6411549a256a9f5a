import fc from 'fast-check'
import { afterAll, beforeAll, expect } from 'vitest'
import { type ChannelRecorder, recordChannel } from '../channel-recorder'
import { useStack } from '../stack'
import { CHANNEL, functionEnv, NAMESPACE, ONLINE } from './settings'
import { Tally } from './tally'

// Property tests: random JSON, bytes and headers into every entry point, against the real stack (redis-server,
// the Upstash gateway, the edge bundle in workerd). Whatever comes in, no entry point answers 5xx, leaves an
// unhandled rejection, or publishes for input the request parser (the oracle) calls invalid.

/** What a fuzz file runs against; filled in by beforeAll, so read it inside tests, not at module level. */
export interface FuzzStack {
  /** The functions' environment, already on process.env: import the functions (and start the edge worker) after. */
  env: Record<string, string>
  /** Every payload published on CHANNEL, in order. */
  recorder: ChannelRecorder
  /**
   * Everything published on the channel since `mark`, made certain by a fence: Redis delivers a subscriber's
   * messages in publish order, so once our own fence arrives, every earlier publish has arrived too.
   */
  publishedSince(mark: number): Promise<string[]>
  /**
   * Forgets every idempotency key claimed so far: fast-check repeats values across runs (shrinking above all), and
   * an id met again with another request would be a conflict no single run explains.
   */
  forgetIds(): Promise<void>
  /**
   * Asserts a property, given a fresh Tally to count its outcomes, for `numRuns` runs; then that it reached each of
   * `outcomes` and left no rejection unhandled.
   */
  assertProperty<Ts>(numRuns: number, outcomes: string[], property: (seen: Tally) => fc.IAsyncProperty<Ts>): Promise<void>
}

/**
 * Starts the real stack for a fuzz file, sets the functions' environment, records the channel, puts ONLINE in
 * Mesa's online set, and watches for unhandled rejections until the file ends.
 */
export function useFuzzStack(): FuzzStack {
  const stack = useStack()
  const unhandled: unknown[] = []
  const onUnhandledRejection = (reason: unknown) => unhandled.push(reason)
  let fences = 0

  /** Lets a rejection nobody handled reach the process's 'unhandledRejection' event before we look. */
  async function expectNoUnhandledRejections(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve))
    expect(unhandled).toEqual([])
  }

  const fuzz = {
    async publishedSince(mark) {
      const fence = `fence-${++fences}`
      await stack.admin.publish(CHANNEL, fence)
      while (!fuzz.recorder.messages.includes(fence, mark)) await fuzz.recorder.waitFor(fuzz.recorder.messages.length + 1)
      return fuzz.recorder.messages.slice(mark, fuzz.recorder.messages.indexOf(fence, mark))
    },
    async forgetIds() {
      const keys = await stack.admin.keys('mesa_dispatch_id:*')
      if (keys.length > 0) await stack.admin.del(...keys)
    },
    async assertProperty(numRuns, outcomes, property) {
      const seen = new Tally()
      await fc.assert(property(seen), { numRuns, endOnFailure: true })
      seen.expectReached(...outcomes)
      await expectNoUnhandledRejections()
    },
  } as FuzzStack

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandledRejection)
    fuzz.env = functionEnv(stack.gateway.url)
    // The functions read process.env when they are first imported.
    Object.assign(process.env, fuzz.env)
    fuzz.recorder = await recordChannel(stack.redis.url, CHANNEL)
    await stack.admin.sadd(`connected_clients_${NAMESPACE}`, ...ONLINE)
    // A stored value that is not a JSON array, which the script must replace rather than choke on.
    await stack.admin.hset(`undelivered_messages_${NAMESPACE}`, 'bob', 'not json')
  })
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandledRejection)
    await fuzz.recorder?.close()
    expect(unhandled).toEqual([])
  })
  return fuzz
}
