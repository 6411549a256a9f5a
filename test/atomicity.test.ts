import { describe, expect, it } from 'vitest'
import { startGateway } from '../dev/upstash-gateway'
import { DispatchEvent, Dispatcher, type DispatchResult, Message, type RateLimit, RedisCommandError } from '../src/index'
import { recordChannel } from './support/channel-recorder'
import { useCleanup } from './support/cleanup'
import { GATEWAY_TOKEN, useStack } from './support/stack'

// Every failure Redis can give the dispatch script, in every position of its writes, leaves each dispatch of the
// call either applied and reported so, or untouched and reported failed with its id free for the retry. Redis
// ACLs stand in for what Upstash would refuse (a record over its size limit, a write it does not allow), through
// the REST gateway, against a real redis-server.
const stack = useStack()
const open = useCleanup()
const PASSWORD = 'acl-test-password'

/** A Dispatcher reaching Redis as an ACL user with these rules, through a gateway of its own. */
async function restricted(user: string, rules: string[], namespace: string): Promise<Dispatcher> {
  await stack.admin.call('ACL', 'SETUSER', user, 'reset', 'on', `>${PASSWORD}`, '&*', '+@all', ...rules)
  const gateway = open(await startGateway({ redisUrl: `redis://${user}:${PASSWORD}@127.0.0.1:${stack.redis.port}`, token: GATEWAY_TOKEN }))
  return new Dispatcher({ url: gateway.url, token: GATEWAY_TOKEN, retries: 0 }, { namespace, sync: { enabled: true } })
}

const note = (n: number) => new Message(0, { n }, 'NOTE')

/**
 * A namespace where 'on' is online and 'kept' already has a stored message (with its index entry), and the three
 * dispatches every case sends in one call: one that stores and has an id, one that only publishes, and an event.
 */
async function arrange() {
  const namespace = stack.freshNamespace()
  await stack.admin.sadd(`connected_clients_${namespace}`, 'on')
  await stack.dispatcher({ namespace, sync: { enabled: true } }).dispatch(note(0), ['kept'])
  const snapshot = async () => ({
    stored: await stack.admin.hgetall(`undelivered_messages_${namespace}`),
    index: await stack.admin.hgetall(`mesa_dispatch_backlogs_${namespace}`),
    ids: await stack.admin.keys(`mesa_dispatch_id:dispatch:*:${namespace}:order-*`),
  })
  const before = await snapshot()
  const recorder = open(await recordChannel(stack.redis.url, `ws_${namespace}`))
  // Each dispatch may be counted against a rate limit, whose charge is then the call's first write.
  const sendAll = (dispatcher: Dispatcher, rateLimit?: RateLimit) =>
    Promise.allSettled([
      dispatcher.dispatch(note(1), ['on', 'kept', 'fresh'], undefined, { id: 'order-1', rateLimit }),
      dispatcher.dispatch(note(2), ['on'], undefined, { rateLimit }),
      dispatcher.dispatch(new DispatchEvent('DISCONNECT_CLIENT'), ['nobody'], undefined, { rateLimit }),
    ])
  return { namespace, before, snapshot, recorder, sendAll }
}

/** What Redis says when an ACL refuses a script's command, or memory runs out. */
const REFUSALS: Record<string, RegExp> = {
  command: /The user executing the script can't run this command/,
  key: /The user executing the script can't access at least one of the keys/,
  OOM: /OOM command not allowed when used memory > 'maxmemory'/,
}

/** Each settled dispatch as 'applied', or which refusal its RedisCommandError reports. */
const verdicts = (settled: PromiseSettledResult<DispatchResult>[]) =>
  settled.map((each) => {
    if (each.status === 'fulfilled') return 'applied'
    const message = each.reason instanceof RedisCommandError ? each.reason.message : String(each.reason)
    return Object.keys(REFUSALS).find((name) => REFUSALS[name]!.test(message)) ?? message
  })

/** The id the failed dispatch carried is free: the same dispatch, sent without the fault, is applied. */
async function idIsFree(namespace: string) {
  const result = await stack.dispatcher({ namespace, sync: { enabled: true } }).dispatch(note(1), ['on', 'kept', 'fresh'], undefined, { id: 'order-1' })
  expect(result).toMatchObject({ duplicate: false, stored: 2 })
}

describe('a refused write', () => {
  it('PUBLISH refused: undoes the stores and ids of the whole call, and every dispatch fails', async () => {
    const { namespace, before, snapshot, recorder, sendAll } = await arrange()
    const dispatcher = await restricted('no-publish', ['~*', '-publish'], namespace)

    expect(verdicts(await sendAll(dispatcher))).toEqual(['command', 'command', 'command'])

    expect({ after: await snapshot(), published: recorder.messages }).toEqual({ after: before, published: [] })
    await idIsFree(namespace)
  })

  it('the offline store refused: the dispatch that stores fails untouched, the others are applied', async () => {
    const { namespace, before, snapshot, recorder, sendAll } = await arrange()
    // An ACL selector lets HSET reach our index only, as Upstash refuses a write that takes a record past its limit.
    const dispatcher = await restricted('store-refused', ['~*', '-hset', '(+hset ~mesa_dispatch_backlogs_*)'], namespace)

    expect(verdicts(await sendAll(dispatcher))).toEqual(['key', 'applied', 'applied'])

    expect({ after: await snapshot(), published: await recorder.waitFor(2) }).toEqual({
      after: before,
      published: [
        '{"message":{"op":0,"d":{"n":2},"t":"NOTE"},"recipients":["on"]}',
        '{"message":{"op":5,"d":{},"t":"DISCONNECT_CLIENT"},"recipients":["nobody"]}',
      ],
    })
    await idIsFree(namespace)
  })

  it('the index refused after the store was written: the store is restored, the others are applied', async () => {
    const { namespace, before, snapshot, recorder, sendAll } = await arrange()
    const dispatcher = await restricted('index-refused', ['~*', '-hset', '(+hset ~undelivered_messages_*)'], namespace)

    expect(verdicts(await sendAll(dispatcher))).toEqual(['key', 'applied', 'applied'])

    expect({ after: await snapshot(), published: (await recorder.waitFor(2)).length }).toEqual({ after: before, published: 2 })
    await idIsFree(namespace)
  })

  it("the dispatch's own id refused: that dispatch fails having done nothing, the others are applied", async () => {
    const { namespace, before, snapshot, recorder, sendAll } = await arrange()
    const dispatcher = await restricted('ids-refused', ['~*', '-set', '(+set ~mesa_dispatch_call:*)'], namespace)

    expect(verdicts(await sendAll(dispatcher))).toEqual(['key', 'applied', 'applied'])

    expect({ after: await snapshot(), published: (await recorder.waitFor(2)).length }).toEqual({ after: before, published: 2 })
    await idIsFree(namespace)
  })

  it("a charge refused: the call is refused at its first write, a charged call's INCRBY, and nothing is written", async () => {
    const { namespace, before, snapshot, recorder, sendAll } = await arrange()
    const dispatcher = await restricted('no-incrby', ['~*', '-incrby'], namespace)
    const keysBefore = await stack.admin.dbsize()

    expect(verdicts(await sendAll(dispatcher, { name: 'acl', requests: 10, windowSeconds: 60 }))).toEqual(['command', 'command', 'command'])

    expect({ after: await snapshot(), keys: await stack.admin.dbsize(), published: recorder.messages }).toEqual({
      after: before,
      keys: keysBefore,
      published: [],
    })
    await idIsFree(namespace)
  })

  it.each([
    ['an uncharged call', undefined],
    ['a charged call', { name: 'oom', requests: 10, windowSeconds: 60 }],
  ])('Redis out of memory, %s: refused at its first write, and nothing at all is written or counted', async (_, rateLimit) => {
    // Loads the script first, so that the call under test is refused for memory, not for a missing script.
    await stack.dispatcher().dispatch(note(0), ['loads-the-script'])
    const { namespace, before, snapshot, recorder, sendAll } = await arrange()
    const dispatcher = stack.dispatcher({ namespace, sync: { enabled: true } })
    const keysBefore = await stack.admin.dbsize()
    await stack.admin.config('SET', 'maxmemory-policy', 'noeviction')
    await stack.admin.config('SET', 'maxmemory', '1')
    let settled: PromiseSettledResult<DispatchResult>[]
    try {
      settled = await sendAll(dispatcher, rateLimit)
    } finally {
      await stack.admin.config('SET', 'maxmemory', '0')
    }

    expect(verdicts(settled)).toEqual(['OOM', 'OOM', 'OOM'])
    expect({ after: await snapshot(), keys: await stack.admin.dbsize(), published: recorder.messages }).toEqual({
      after: before,
      keys: keysBefore,
      published: [],
    })
    await idIsFree(namespace)
  })
})
