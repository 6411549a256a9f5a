import type { Context } from 'aws-lambda'
import { beforeAll, describe, expect, it } from 'vitest'
import { type CleanupResult, Message } from '../src/index'
import { useCleanup } from './support/cleanup'
import { lambdaContext } from './support/events'
import { createMesaDispatcher, Message as MesaMessage } from './support/mesa-dispatcher'
import { useStack } from './support/stack'

// Backlogs whose newest message is older than maxAgeSeconds are removed, in short steps, without ever losing a
// message that a dispatch stored meanwhile; through the gateway against a real redis-server.
const stack = useStack()
const open = useCleanup()
const DAY = 24 * 3600
const note = (n: number) => new Message(0, { n }, 'NOTE')

function setup(maxAgeSeconds = 30 * DAY) {
  const namespace = stack.freshNamespace()
  const dispatcher = stack.dispatcher({ namespace, sync: { enabled: true, maxAgeSeconds } })
  const hash = `undelivered_messages_${namespace}`
  const index = `mesa_dispatch_backlogs_${namespace}`
  /** Makes a recipient's newest message `days` old, as the index records it. */
  const age = async (id: string, days: number) => {
    const [bytes, count, , lengths] = (await stack.admin.hget(index, id))!.split(':')
    await stack.admin.hset(index, id, `${bytes}:${count}:${Math.floor(Date.now() / 1000) - days * DAY}:${lengths}`)
  }
  return { namespace, dispatcher, hash, index, age }
}

describe('cleanupBacklogs', () => {
  it('removes the backlogs whose newest message is older than maxAgeSeconds, and keeps the others', async () => {
    const { dispatcher, hash, index, age } = setup()
    await dispatcher.dispatch(note(1), ['old', 'recent'])
    await age('old', 31)
    await age('recent', 29)
    const bytes = (await stack.admin.hget(hash, 'old'))!.length

    expect(await dispatcher.cleanupBacklogs()).toEqual({ removed: 1, bytes, forgotten: 1, complete: true })
    // The entry '' only keeps the index a hash table (src/script/dispatch.lua), and stays.
    expect({ stored: Object.keys(await stack.admin.hgetall(hash)), indexed: Object.keys(await stack.admin.hgetall(index)).sort() }).toEqual({
      stored: ['recent'],
      indexed: ['', 'recent'],
    })
  })

  it('only forgets an old entry whose backlog Mesa delivered (and deleted) or someone else wrote to since', async () => {
    const { namespace, dispatcher, hash, index, age } = setup()
    await dispatcher.dispatch(note(1), ['delivered', 'changed'])
    await stack.admin.hdel(hash, 'delivered')
    const theirs = open(createMesaDispatcher(stack.redis.url, { namespace, sync: { enabled: true } }))
    theirs.dispatcher.dispatch(new MesaMessage(0, { n: 2 }, 'NOTE'), ['changed'])
    await theirs.settle()
    await age('delivered', 40)
    await age('changed', 40)
    const changed = await stack.admin.hget(hash, 'changed')

    expect(await dispatcher.cleanupBacklogs()).toEqual({ removed: 0, bytes: 0, forgotten: 2, complete: true })
    expect({ stored: await stack.admin.hgetall(hash), indexed: Object.keys(await stack.admin.hgetall(index)) }).toEqual({ stored: { changed }, indexed: [''] })
  })

  it('never loses a message stored while it runs: every step is atomic, and a dispatch refreshes its entry', async () => {
    const { dispatcher, hash, age } = setup()
    const ids = Array.from({ length: 300 }, (_, i) => `user-${i}`)
    await dispatcher.dispatch(note(1), ids)
    for (const id of ids) await age(id, 60)

    const [cleaned] = await Promise.all([
      dispatcher.cleanupBacklogs({ stepSize: 1 }),
      (async () => {
        for (const id of ids) await dispatcher.dispatch(note(2), [id])
      })(),
    ])

    const values = await stack.admin.hgetall(hash)
    expect(ids.filter((id) => !values[id]?.endsWith(`${JSON.stringify({ op: 0, d: { n: 2 }, t: 'NOTE' })}]`))).toEqual([])
    expect(cleaned.complete).toBe(true)
  })

  it('does nothing when maxAgeSeconds is 0, and stops at its deadline saying the pass is incomplete', async () => {
    const never = setup(0)
    await never.dispatcher.dispatch(note(1), ['kept'])
    await never.age('kept', 1000)
    expect(await never.dispatcher.cleanupBacklogs()).toEqual({ removed: 0, bytes: 0, forgotten: 0, complete: true })

    const { dispatcher, age } = setup()
    await dispatcher.dispatch(note(1), ['old'])
    await age('old', 40)
    expect(await dispatcher.cleanupBacklogs({ deadline: () => Date.now() })).toEqual({ removed: 0, bytes: 0, forgotten: 0, complete: false })
  })
})

describe('the scheduled cleanup function', () => {
  let handler: (event: unknown, context: Context) => Promise<CleanupResult>
  const NAMESPACE = 'cleanupfn'
  beforeAll(async () => {
    Object.assign(process.env, stack.functionEnv(NAMESPACE), { MESA_SYNC_MAX_AGE_SECONDS: String(7 * DAY) })
    ;({ handler } = await import('../functions/cleanup'))
  })

  it('removes the backlogs older than MESA_SYNC_MAX_AGE_SECONDS in one invocation', async () => {
    const dispatcher = stack.dispatcher({ namespace: NAMESPACE, sync: { enabled: true } })
    await dispatcher.dispatch(note(1), ['week-old', 'fresh'])
    const index = `mesa_dispatch_backlogs_${NAMESPACE}`
    const [bytes, count, , lengths] = (await stack.admin.hget(index, 'week-old'))!.split(':')
    await stack.admin.hset(index, 'week-old', `${bytes}:${count}:${Math.floor(Date.now() / 1000) - 8 * DAY}:${lengths}`)

    expect(await handler({ source: 'aws.events', 'detail-type': 'Scheduled Event' }, lambdaContext())).toEqual({
      removed: 1,
      bytes: Number(bytes),
      forgotten: 1,
      complete: true,
    })
    expect(Object.keys(await stack.admin.hgetall(`undelivered_messages_${NAMESPACE}`))).toEqual(['fresh'])
  })
})
