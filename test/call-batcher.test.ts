import { describe, expect, it } from 'vitest'
import { CALL_KEY_TTL_SECONDS, createCallBatcher } from '../src/call-batcher'
import { RedisCommandError, RedisUnavailableError } from '../src/index'
import type { ScriptPart } from '../src/script-protocol'
import type { ScriptRunner } from '../src/script-runner'

// The batcher alone, with a runner that records calls instead of reaching Redis (script.test.ts runs it for real).
function recordingRunner(reply: (call: { keys: string[]; args: string[] }) => Promise<unknown>) {
  const calls: Array<{ keys: string[]; args: string[] }> = []
  const runner: ScriptRunner = {
    run: (keys, args) => {
      const call = { keys: [...keys], args: [...args] }
      calls.push(call)
      return reply(call)
    },
    close: async () => {},
  }
  return { calls, runner }
}

/** A publish-as-given part whose single line of reply is `n<servers>:0:`. */
const part = (name: string, key?: string): ScriptPart => ({ keys: key ? [key] : [], args: ['p', 'ws', name], checks: 0, chars: name.length })
const answerEach = async ({ args }: { args: string[] }) => args.filter((arg) => arg === 'p').map(() => 'n1:0:').join('\n')
let calls = 0
const newCallKey = () => `call-${++calls}`

describe('the call batcher', () => {
  it('sends the parts of one tick as one call: the call key and TTL first, then each part in order', async () => {
    const { calls: sent, runner } = recordingRunner(answerEach)
    const batcher = createCallBatcher(runner, newCallKey)
    const outcomes = await Promise.all([batcher.send(part('a')), batcher.send(part('b', 'id-b'))])
    expect(sent).toEqual([{ keys: [expect.stringMatching(/^call-/), 'id-b'], args: [String(CALL_KEY_TTL_SECONDS), 'p', 'ws', 'a', 'p', 'ws', 'b'] }])
    expect(outcomes).toEqual([1, 1].map((servers) => ({ duplicate: false, servers, stored: 0, states: '' })))
  })

  it('sends parts issued a macrotask apart as separate calls, each under its own key', async () => {
    const { calls: sent, runner } = recordingRunner(answerEach)
    const batcher = createCallBatcher(runner, newCallKey)
    const first = batcher.send(part('a'))
    await new Promise((resolve) => setTimeout(resolve, 0))
    await Promise.all([first, batcher.send(part('b'))])
    expect(sent.map((call) => call.args.slice(1))).toEqual([['p', 'ws', 'a'], ['p', 'ws', 'b']])
    expect(new Set(sent.map((call) => call.keys[0])).size).toBe(2)
  })

  it('rejects every part of a call whose reply has the wrong number of lines', async () => {
    const { runner } = recordingRunner(async () => 'n1:0:')
    const batcher = createCallBatcher(runner, newCallKey)
    const settled = await Promise.allSettled([batcher.send(part('a')), batcher.send(part('b'))])
    expect(settled.map((each) => each.status === 'rejected' && each.reason instanceof RedisCommandError)).toEqual([true, true])
  })

  it('passes the transport failure of a call to every part of it', async () => {
    const failure = new RedisUnavailableError('down')
    const { runner } = recordingRunner(() => Promise.reject(failure))
    const batcher = createCallBatcher(runner, newCallKey)
    const settled = await Promise.allSettled([batcher.send(part('a')), batcher.send(part('b'))])
    expect(settled).toEqual([
      { status: 'rejected', reason: failure },
      { status: 'rejected', reason: failure },
    ])
  })

  it('drains: sends the open call at once and resolves only after every call sent has settled', async () => {
    let release = () => {}
    const { calls: sent, runner } = recordingRunner((call) => new Promise((resolve) => (release = () => resolve(answerEach(call)))))
    const batcher = createCallBatcher(runner, newCallKey)
    const outcome = batcher.send(part('a'))
    let drained = false
    const draining = batcher.drain().then(() => (drained = true))
    expect(sent).toHaveLength(1)
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(drained).toBe(false)
    release()
    await draining
    expect(await outcome).toEqual({ duplicate: false, servers: 1, stored: 0, states: '' })
    expect(sent).toHaveLength(1)
  })

  it('starts a new call when the next part would pass a limit, and sends an oversized part alone', async () => {
    const { calls: sent, runner } = recordingRunner(answerEach)
    const batcher = createCallBatcher(runner, newCallKey, { dispatches: 2, checks: 10, chars: 5 })
    await Promise.all([batcher.send(part('a')), batcher.send(part('b')), batcher.send(part('cdefgh')), batcher.send(part('i'))])
    expect(sent.map((call) => call.args.filter((_, i) => i % 3 === 0 && i > 0))).toEqual([['a', 'b'], ['cdefgh'], ['i']])
  })
})
