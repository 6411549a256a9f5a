import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { expandLua } from '../scripts/generate-lua.mjs'
import { fingerprintOf } from '../src/core/fingerprint'
import { createMesaKeys } from '../src/core/keys'
import { type DispatchResult, Message, type Recipient } from '../src/index'
import { scriptText } from '../src/script/lua-script'
import { callHead, packDispatch } from '../src/script/protocol'
import { DISPATCH_SCRIPT } from '../src/script/scripts'
import { useStack } from './support/stack'

// A differential property of the dispatch script against the real stack: dispatches packed into one script call
// leave Redis exactly as the same dispatches sent one call at a time, and answer each the same.
const stack = useStack()

const STRING_IDS = ['u0', 'u1', 'u2', 'q"x', ' ']
const POOL: Recipient[] = [...STRING_IDS, 7, '*']
/** What a user's field of undelivered_messages holds before the dispatches: nothing, arrays, or garbage. */
const STORED = [undefined, '[{"op":0,"d":"old"}]', ' [ ] ', 'not json']

const scenario = fc.record({
  online: fc.subarray([...STRING_IDS, '7']),
  stored: fc.array(fc.constantFrom(...STORED), { minLength: STRING_IDS.length, maxLength: STRING_IDS.length }),
  dispatches: fc.array(
    fc.record({
      recipients: fc.array(fc.constantFrom(...POOL), { maxLength: 6 }),
      id: fc.option(fc.constantFrom('a', 'b'), { nil: undefined }),
      n: fc.nat(99),
    }),
    { minLength: 1, maxLength: 8 },
  ),
})

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never

async function arrange(namespace: string, { online, stored }: Scenario): Promise<void> {
  if (online.length > 0) await stack.admin.sadd(`connected_clients_${namespace}`, ...online)
  for (const [i, value] of stored.entries()) if (value !== undefined) await stack.admin.hset(`undelivered_messages_${namespace}`, STRING_IDS[i]!, value)
}

type Answer = Omit<DispatchResult, 'servers'> | { readonly error: string }

/**
 * Everything a dispatch answers except `servers`, which counts subscribers and is 0 here either way; or the name of
 * its error (the same id with another dispatch is a conflict).
 */
const answerOf = (sent: Promise<DispatchResult>): Promise<Answer> =>
  sent.then(
    ({ servers: _, ...rest }) => rest,
    (error: Error) => ({ error: error.name }),
  )

// Loads the script into Redis's cache, so that every call below is one EVALSHA request.
beforeAll(() => stack.dispatcher().dispatch(new Message(0, null, 'WARM')))

describe('one script call for many dispatches', () => {
  it('stores, answers and dedupes exactly as the same dispatches sent one by one', async () => {
    let batched = 0
    await fc.assert(
      fc.asyncProperty(scenario, async (input) => {
        const [together, alone] = [stack.freshNamespace(), stack.freshNamespace()]
        await arrange(together, input)
        await arrange(alone, input)
        const config = { sync: { enabled: true } }
        const [one, each] = [stack.dispatcher({ ...config, namespace: together }), stack.dispatcher({ ...config, namespace: alone })]
        const send = (dispatcher: typeof one, { recipients, id, n }: Scenario['dispatches'][number]) =>
          dispatcher.dispatch(new Message(0, { n }, 'NOTE'), recipients, undefined, id === undefined ? {} : { id })

        let inOneCall: Answer[] = []
        const requests = await stack.requestsDuring(
          async () => (inOneCall = await Promise.all(input.dispatches.map((dispatch) => answerOf(send(one, dispatch))))),
        )
        expect(requests).toBe(1)
        const oneByOne: Answer[] = []
        for (const dispatch of input.dispatches) oneByOne.push(await answerOf(send(each, dispatch)))
        if (input.dispatches.length > 1) batched++

        expect(inOneCall).toEqual(oneByOne)
        expect(await stack.admin.hgetall(`undelivered_messages_${together}`)).toEqual(await stack.admin.hgetall(`undelivered_messages_${alone}`))
      }),
      { numRuns: 150 },
    )
    // The property is about calls carrying several dispatches; most runs must have had them.
    expect(batched).toBeGreaterThan(100)
  })

  it('runs the compacted script the bundles ship, once inflated, exactly as the Lua source', async () => {
    const source = await expandLua('dispatch.lua')
    const shipped = await scriptText(DISPATCH_SCRIPT)
    await fc.assert(
      fc.asyncProperty(scenario, async (input) => {
        const outcomes = []
        for (const script of [source, shipped]) {
          const namespace = stack.freshNamespace()
          await arrange(namespace, input)
          const keys = createMesaKeys(namespace)
          const parts = input.dispatches.map(({ recipients, id, n }) =>
            packDispatch({
              event: new Message(0, { n }, 'NOTE'),
              recipients,
              checkOnline: true,
              ...(id === undefined
                ? {}
                : {
                    dedupe: {
                      key: keys.idempotency('dispatch', id),
                      ttlSeconds: 60,
                      fingerprint: fingerprintOf([String(n), JSON.stringify(recipients)]),
                      offset: 0,
                    },
                  }),
            }),
          )
          const head = callHead(keys, keys.callKey(), 60, { maxMessages: 3, maxBytes: 200, maxWriteBytes: 4096 }, 1_700_000_000_000)
          const callKeys = [...head.keys, ...parts.flatMap((part) => part.keys)]
          // No charges: ARGV[7], their number, is 0 (src/script/call-batcher.ts adds it after the head).
          const reply = await stack.admin.eval(script, callKeys.length, ...callKeys, ...head.args, '0', ...parts.flatMap((part) => part.args))
          outcomes.push({ reply, stored: await stack.admin.hgetall(keys.undeliveredMessages), index: await stack.admin.hgetall(keys.backlogs) })
        }
        expect(outcomes[1]).toEqual(outcomes[0])
      }),
      { numRuns: 100 },
    )
  })
})
