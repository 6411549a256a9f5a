import { describe, expect, it } from 'vitest'
import { Dispatcher, Message, PayloadTooLargeError } from '../src/index'
import { useStack } from './support/stack'

// Every request to Redis stays under MAX_REQUEST_BYTES as sent: the command around the keys and arguments counted,
// and the EVAL a lost script cache falls back to, which carries the script's text where EVALSHA had its SHA. The
// gateway refuses a larger body as Upstash does (413), and notes the size of each it receives.
const LIMIT = 64 * 1024
let sizes: number[] = []
const stack = useStack({
  maxBodyBytes: LIMIT,
  intercept: (req) => {
    sizes.push(Number(req.headers['content-length']))
    return false
  },
})

/** How many EVALs Redis has run, from INFO commandstats: the fallback after a NOSCRIPT. */
async function evals(): Promise<number> {
  return Number(/cmdstat_eval:calls=(\d+)/.exec(await stack.admin.info('commandstats'))?.[1] ?? 0)
}

const note = (text: string) => new Message(0, { text }, 'NOTE')

describe('a request to Redis', () => {
  it.each([
    ['', false],
    [", under Upstash's key-locking shebang", true],
  ])('fits MAX_REQUEST_BYTES to the byte as sent, even as the EVAL after the script cache was flushed%s', async (_, keyLocking) => {
    const dispatcher = new Dispatcher({ ...stack.connection, keyLocking }, { namespace: stack.freshNamespace(), maxRequestBytes: LIMIT })
    // The longest message a dispatch to one recipient may carry: one character more is refused before sending.
    const fits = async (length: number) => {
      const before = stack.gateway.requests
      const refused = await stack.admin.script('FLUSH').then(() =>
        dispatcher.dispatch(note('x'.repeat(length)), ['a']).then(
          () => false,
          (error: unknown) => error instanceof PayloadTooLargeError,
        ),
      )
      return { refused, sent: stack.gateway.requests - before }
    }
    let [low, high] = [0, LIMIT]
    while (high - low > 1) {
      const middle = Math.floor((low + high) / 2)
      if ((await fits(middle)).refused) high = middle
      else low = middle
    }

    sizes = []
    const evalsBefore = await evals()
    const longest = await fits(low)
    const largest = Math.max(...sizes)
    expect({ longest, tooLong: await fits(low + 1), evals: (await evals()) - evalsBefore }).toEqual({
      longest: { refused: false, sent: 2 },
      tooLong: { refused: true, sent: 0 },
      evals: 1,
    })
    // The EVALSHA, then the EVAL with the text: the larger is at the limit, give or take the key count's digits.
    expect({ requests: sizes.length, largest: largest <= LIMIT && largest > LIMIT - 16 }).toEqual({ requests: 2, largest: true })
  })

  it('carries concurrent dispatches in calls packed to the limit, none refused while the script cache is flushed under them', async () => {
    const dispatcher = stack.dispatcher({ namespace: stack.freshNamespace(), maxRequestBytes: LIMIT })
    // Messages of 1 to 12 KB in the request, some of quotes, which it escapes twice (each quote 4 bytes).
    const messages = Array.from({ length: 60 }, (_, i) => {
      const bytes = 1_000 + ((i * 7919) % 11_000)
      return note(i % 3 === 0 ? '"'.repeat(Math.floor(bytes / 4)) : 'y'.repeat(bytes))
    })
    sizes = []
    const evalsBefore = await evals()
    const settled = []
    for (let round = 0; round < 3; round++) {
      await stack.admin.script('FLUSH')
      settled.push(...(await Promise.allSettled(messages.map((message, i) => dispatcher.dispatch(message, [`user-${i}`])))))
    }
    expect({
      failed: settled.filter((each) => each.status === 'rejected').map((each) => String((each as PromiseRejectedResult).reason)),
      evals: (await evals()) - evalsBefore >= 3,
      overLimit: sizes.filter((size) => size > LIMIT),
      // Packed, not sent one by one: some call came within a few KB of the limit.
      packed: Math.max(...sizes) > LIMIT - 12_000,
    }).toEqual({ failed: [], evals: true, overLimit: [], packed: true })
  })
})
