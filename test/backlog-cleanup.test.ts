import type { Context } from 'aws-lambda'
import { beforeAll, describe, expect, it } from 'vitest'
import { type CleanupResult, Dispatcher, Message } from '../src/index'
import { ageEntry } from './support/backlog-index'
import { useCleanup } from './support/cleanup'
import { lambdaContext } from './support/events'
import { connectMesaClient } from './support/mesa-client'
import { createMesaDispatcher, Message as MesaMessage } from './support/mesa-dispatcher'
import { startMesaServer } from './support/mesa-server'
import { until } from './support/processes'
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
  const age = (id: string, days: number) => ageEntry(stack.admin, index, id, days)
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

  it("keeps what Mesa's own Dispatcher stored after a real login, though it is as long as the stale entry says", async () => {
    const { namespace, dispatcher, hash, index, age } = setup()
    await dispatcher.dispatch(note(1), ['u'])
    // A real login redelivers ours and deletes the field; our entry stays, and ages past the cap.
    const server = await startMesaServer({ redisUrl: stack.redis.url, namespace })
    open({ close: () => server.close() })
    const client = await connectMesaClient(server.url, 'u')
    expect(await client.waitForMessages(1)).toEqual([{ op: 0, d: { n: 1 }, t: 'NOTE', s: 1 }])
    await client.close()
    await until('u is offline again', async () => ((await stack.admin.sismember(`connected_clients_${namespace}`, 'u')) === 0 ? true : undefined))
    await age('u', 40)
    // Mesa's own Dispatcher stores a fresh message for u, of the very length of ours.
    const theirs = open(createMesaDispatcher(stack.redis.url, { namespace, sync: { enabled: true } }))
    theirs.dispatcher.dispatch(new MesaMessage(0, { n: 2 }, 'NOTE'), ['u'])
    await theirs.settle()
    const fresh = await stack.admin.hget(hash, 'u')
    expect(fresh?.length).toBe(JSON.stringify([{ op: 0, d: { n: 1 }, t: 'NOTE' }]).length)

    expect(await dispatcher.cleanupBacklogs()).toEqual({ removed: 0, bytes: 0, forgotten: 1, complete: true })
    expect({ kept: await stack.admin.hget(hash, 'u'), indexed: Object.keys(await stack.admin.hgetall(index)) }).toEqual({ kept: fresh, indexed: [''] })
  })

  it('reads at most the write budget of backlogs per step, coming back to the same entries, and still removes every old one', async () => {
    const namespace = stack.freshNamespace()
    // A budget of 100 bytes holds one backlog of one note (33 bytes), three at most: 20 backlogs take several steps.
    const dispatcher = stack.dispatcher({ namespace, sync: { enabled: true, maxBytes: 100 }, maxWriteBytes: 100 })
    const ids = Array.from({ length: 20 }, (_, i) => `old-${i}`)
    await dispatcher.dispatch(note(1), ids)
    for (const id of ids) await ageEntry(stack.admin, `mesa_dispatch_backlogs_${namespace}`, id, 40)
    let result: CleanupResult | undefined
    const steps = await stack.requestsDuring(async () => {
      result = await dispatcher.cleanupBacklogs()
    })
    // 20 backlogs at three a step take seven steps at least (a step may come back to the same page more than once).
    expect({ result, enoughSteps: steps >= 7, left: await stack.admin.hlen(`undelivered_messages_${namespace}`) }).toEqual({
      result: { removed: 20, bytes: 20 * JSON.stringify([{ op: 0, d: { n: 1 }, t: 'NOTE' }]).length, forgotten: 20, complete: true },
      enoughSteps: true,
      left: 0,
    })
  })

  it('ends a pass whose step the deadline cuts off as incomplete, never with a thrown timeout', async () => {
    const { namespace, dispatcher, age } = setup()
    await dispatcher.dispatch(note(1), ['old'])
    await age('old', 40)
    // As the cleanup function runs it: every Redis attempt ends by the invocation's deadline, which comes while Redis
    // is paused in the middle of the pass.
    const deadline = Date.now() + 400
    const timed = new Dispatcher({ ...stack.connection, deadline: () => deadline }, { namespace, sync: { enabled: true } })
    await stack.admin.call('CLIENT', 'PAUSE', '1500', 'ALL')
    const started = Date.now()
    const result = await timed.cleanupBacklogs({ deadline: () => deadline })
    expect({ result, withinDeadline: Date.now() - started < 1400 }).toEqual({
      result: { removed: 0, bytes: 0, forgotten: 0, complete: false },
      withinDeadline: true,
    })
    await stack.admin.call('CLIENT', 'UNPAUSE')
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
    await ageEntry(stack.admin, index, 'week-old', 8)
    const bytes = (await stack.admin.hget(`undelivered_messages_${NAMESPACE}`, 'week-old'))!.length

    expect(await handler({ source: 'aws.events', 'detail-type': 'Scheduled Event' }, lambdaContext())).toEqual({
      removed: 1,
      bytes,
      forgotten: 1,
      complete: true,
    })
    expect(Object.keys(await stack.admin.hgetall(`undelivered_messages_${NAMESPACE}`))).toEqual(['fresh'])
  })
})
