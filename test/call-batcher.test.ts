import { describe, expect, it } from 'vitest'
import { RedisCommandError, RedisUnavailableError } from '../src/index'
import { type CallLimits, createCallBatcher } from '../src/script/call-batcher'
import type { ScriptPart } from '../src/script/protocol'

// The batcher alone, with a runner that records calls instead of reaching Redis (script-call.test.ts runs it for real).
function recordingRunner(reply: (call: { keys: string[]; args: string[] }) => Promise<unknown>) {
  const calls: Array<{ keys: string[]; args: string[] }> = []
  const run = (keys: string[], args: string[]) => {
    const call = { keys: [...keys], args: [...args] }
    calls.push(call)
    return reply(call)
  }
  return { calls, runner: run }
}

/** A publish-as-given part whose single line of reply is `n1:0:0:`. */
const part = (name: string, key?: string): ScriptPart => ({ keys: key ? [key] : [], args: ['p', name], checks: 0, bytes: name.length })
const answerEach = async ({ args }: { args: string[] }) =>
  args
    .filter((arg) => arg === 'p')
    .map(() => 'n1:0:0:')
    .join('\n')
const applied = { kind: 'applied', servers: 1, stored: 0, dropped: 0, states: '' }
let calls = 0
/** Each call's head: a fresh call key and one argument. */
const newCallKey = (): ScriptPart => ({ keys: [`call-${++calls}`], args: ['head'], checks: 0, bytes: 0 })
const LIMITS: CallLimits = { dispatches: 1000, checks: 10_000, requestBytes: 1_000_000 }

describe('the call batcher', () => {
  it('sends the parts of one tick as one call: the call key and head first, the number of charges, then each part in order', async () => {
    const { calls: sent, runner } = recordingRunner(answerEach)
    const batcher = createCallBatcher(runner, newCallKey, LIMITS)
    const outcomes = await Promise.all([batcher.send(part('a')), batcher.send(part('b', 'id-b'))])
    expect(sent).toEqual([{ keys: [expect.stringMatching(/^call-/), 'id-b'], args: ['head', '0', 'p', 'a', 'p', 'b'] }])
    expect(outcomes).toEqual([applied, applied])
  })

  it('sends parts issued a macrotask apart as separate calls, each under its own key', async () => {
    const { calls: sent, runner } = recordingRunner(answerEach)
    const batcher = createCallBatcher(runner, newCallKey, LIMITS)
    const first = batcher.send(part('a'))
    await new Promise((resolve) => setTimeout(resolve, 0))
    await Promise.all([first, batcher.send(part('b'))])
    expect(sent.map((call) => call.args.slice(2))).toEqual([
      ['p', 'a'],
      ['p', 'b'],
    ])
    expect(new Set(sent.map((call) => call.keys[0])).size).toBe(2)
  })

  it('rejects every part of a call whose reply has the wrong number of lines', async () => {
    const { runner } = recordingRunner(async () => 'n1:0:0:')
    const batcher = createCallBatcher(runner, newCallKey, LIMITS)
    const settled = await Promise.allSettled([batcher.send(part('a')), batcher.send(part('b'))])
    expect(settled.map((each) => each.status === 'rejected' && each.reason instanceof RedisCommandError)).toEqual([true, true])
  })

  it('passes the transport failure of a call to every part of it', async () => {
    const failure = new RedisUnavailableError('down')
    const { runner } = recordingRunner(() => Promise.reject(failure))
    const batcher = createCallBatcher(runner, newCallKey, LIMITS)
    const settled = await Promise.allSettled([batcher.send(part('a')), batcher.send(part('b'))])
    expect(settled).toEqual([
      { status: 'rejected', reason: failure },
      { status: 'rejected', reason: failure },
    ])
  })

  it('drains: sends the open call at once and resolves only after every call sent has settled', async () => {
    let release = () => {}
    const { calls: sent, runner } = recordingRunner((call) => new Promise((resolve) => (release = () => resolve(answerEach(call)))))
    const batcher = createCallBatcher(runner, newCallKey, LIMITS)
    const outcome = batcher.send(part('a'))
    let drained = false
    const draining = batcher.drain().then(() => (drained = true))
    expect(sent).toHaveLength(1)
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(drained).toBe(false)
    release()
    await draining
    expect(await outcome).toEqual(applied)
    expect(sent).toHaveLength(1)
  })

  it('starts a new call when the next part would pass a limit, and sends an oversized part alone', async () => {
    const { calls: sent, runner } = recordingRunner(answerEach)
    const batcher = createCallBatcher(runner, newCallKey, { dispatches: 2, checks: 10, requestBytes: 5 })
    await Promise.all([batcher.send(part('a')), batcher.send(part('b')), batcher.send(part('cdefgh')), batcher.send(part('i'))])
    expect(sent.map((call) => call.args.filter((_, i) => i % 2 === 1 && i > 1))).toEqual([['a', 'b'], ['cdefgh'], ['i']])
  })

  it('puts a part sent again ahead of the parts waiting in the open call', async () => {
    const { calls: sent, runner } = recordingRunner(answerEach)
    const batcher = createCallBatcher(runner, newCallKey, LIMITS)
    await Promise.all([batcher.send(part('new')), batcher.send(part('again'), { first: true }), batcher.send(part('newer'))])
    expect(sent.map((call) => call.args.slice(2))).toEqual([['p', 'again', 'p', 'new', 'p', 'newer']])
  })

  it('decodes each kind of line: applied, duplicate, progress of a dispatch in parts, conflict, deferred and limited', async () => {
    const { runner } = recordingRunner(async () => ['n2:1:3:10x-', 'd', 'p7', 'c', 'r', 'l'].join('\n'))
    const batcher = createCallBatcher(runner, newCallKey, LIMITS)
    expect(await Promise.all(['a', 'b', 'c', 'd', 'e', 'f'].map((name) => batcher.send(part(name))))).toEqual([
      { kind: 'applied', servers: 2, stored: 1, dropped: 3, states: '10x-' },
      { kind: 'duplicate' },
      { kind: 'progress', reached: 7 },
      { kind: 'conflict' },
      { kind: 'deferred' },
      { kind: 'limited' },
    ])
  })
})

describe('the call batcher with charges', () => {
  const charge = (name: string) => ({ key: `rate:${name}`, spec: '5:2:99' })
  const charged = (name: string, by: ReturnType<typeof charge>): ScriptPart => ({ ...part(name), charge: by })
  /** Answers each part `l` when its head names a charge the test refuses, else as applied. */
  const refusing =
    (refused: string[]) =>
    async ({ args }: { args: string[] }) =>
      args
        .filter((arg) => /^p/.test(arg))
        .map((head) => (refused.includes(head.split('@')[1] ?? '') ? 'l' : 'n1:0:0:'))
        .join('\n')

  it('carries each charge once, after the head, and marks every part it admits with its number', async () => {
    const { calls: sent, runner } = recordingRunner(refusing([]))
    const batcher = createCallBatcher(runner, newCallKey, LIMITS)
    const [one, two] = [charge('one'), charge('two')]
    await Promise.all([batcher.send(charged('a', one)), batcher.send(part('b')), batcher.send(charged('c', two)), batcher.send(charged('d', one))])
    expect(sent).toEqual([
      {
        keys: [expect.stringMatching(/^call-/), 'rate:one', 'rate:two'],
        args: ['head', '2', '5:2:99', '5:2:99', 'p@1', 'a', 'p', 'b', 'p@2', 'c', 'p@1', 'd'],
      },
    ])
  })

  it("holds a charge's parts that did not fit its call until that call answers, then sends them uncharged", async () => {
    const { calls: sent, runner } = recordingRunner(refusing([]))
    const batcher = createCallBatcher(runner, newCallKey, { ...LIMITS, dispatches: 2 })
    const one = charge('one')
    const outcomes = await Promise.all(['a', 'b', 'c'].map((name) => batcher.send(charged(name, one))))
    expect({ sent: sent.map((call) => call.args.slice(1)), outcomes }).toEqual({
      sent: [
        ['1', '5:2:99', 'p@1', 'a', 'p@1', 'b'],
        ['0', 'p', 'c'],
      ],
      outcomes: [applied, applied, applied],
    })
  })

  it("refuses a charge's held parts without sending them when its call finds the window full", async () => {
    const { calls: sent, runner } = recordingRunner(refusing(['1']))
    const batcher = createCallBatcher(runner, newCallKey, { ...LIMITS, dispatches: 2 })
    const one = charge('one')
    const outcomes = await Promise.all(['a', 'b', 'c'].map((name) => batcher.send(charged(name, one))))
    expect({ calls: sent.length, outcomes }).toEqual({ calls: 1, outcomes: [{ kind: 'limited' }, { kind: 'limited' }, { kind: 'limited' }] })
  })

  it("fails a charge's held parts with the failure of its call, and drains only once they settled", async () => {
    const failure = new RedisUnavailableError('down')
    const { calls: sent, runner } = recordingRunner(async () => Promise.reject(failure))
    const batcher = createCallBatcher(runner, newCallKey, { ...LIMITS, dispatches: 1 })
    const one = charge('one')
    const settled = Promise.allSettled(['a', 'b'].map((name) => batcher.send(charged(name, one))))
    await batcher.drain()
    expect({ calls: sent.length, settled: (await settled).map((each) => each.status === 'rejected' && each.reason) }).toEqual({
      calls: 1,
      settled: [failure, failure],
    })
  })
})
