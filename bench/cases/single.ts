import { Message } from '../../src/index'
import { measureRedisTime } from '../redis-stats'
import { CaseRecorder, type CaseResult } from '../results'
import { interleave } from '../rounds'
import { pick } from '../settings'
import type { BenchStack } from '../stack'

const NAMESPACE = 'single'
const CHANNEL = `ws_${NAMESPACE}`
const MAX_RATIO = 1.15

/**
 * Case 1: one dispatch to one recipient, sync off, against the floors that do the least possible work for the
 * same PUBLISH: one plain @upstash/redis request through the same gateway, a bare fetch, and ioredis over TCP.
 */
export async function runSingle(stack: BenchStack): Promise<CaseResult> {
  const record = new CaseRecorder('1', 'One recipient, sync off: one dispatch against the bare PUBLISH floors')
  const ours = stack.dispatcher({ namespace: NAMESPACE })
  const oursTcp = stack.dispatcher({ namespace: NAMESPACE }, 'tcp')
  const plain = stack.upstash(false)
  const ioredis = stack.ioredis()
  const message = new Message(0, { content: 'hello from the benchmark', author: 'bench', n: 1 }, 'NEW_MESSAGE')
  // Exactly the bytes our Dispatcher publishes, so every variant sends the same payload.
  const payload = `{"message":${message.json},"recipients":["user-1"]}`
  const fetchBody = JSON.stringify(['PUBLISH', CHANNEL, payload])
  const headers = { authorization: `Bearer ${stack.connection.token}`, 'content-type': 'application/json' }

  const names = {
    ours: 'ours (REST)',
    plain: 'HTTP floor: @upstash/redis PUBLISH',
    fetch: 'bare fetch PUBLISH',
    tcp: 'Redis floor: ioredis PUBLISH',
    oursTcp: 'ours (TCP)',
  }
  const samples = await interleave(
    [
      { name: names.ours, run: () => ours.dispatch(message, ['user-1']) },
      { name: names.plain, run: () => plain.publish(CHANNEL, payload) },
      { name: names.fetch, run: async () => (await fetch(stack.gateway.url, { method: 'POST', headers, body: fetchBody })).text() },
      { name: names.tcp, run: () => ioredis.publish(CHANNEL, payload) },
      { name: names.oursTcp, run: () => oursTcp.dispatch(message, ['user-1']) },
    ],
    { rounds: pick(1500, 100), warmup: pick(200, 20) },
  )
  for (const [name, values] of Object.entries(samples)) record.samples(name, values)

  const before = stack.gateway.requests
  await ours.dispatch(message, ['user-1'])
  record.value('gateway requests per dispatch (ours)', stack.gateway.requests - before, 'requests')

  // Redis's own time per call, measured apart from the timed rounds so nothing else is counted.
  const oursRedis = await measureRedisTime(stack.admin, async () => {
    for (let i = 0; i < 200; i++) await ours.dispatch(message, ['user-1'])
  })
  const floorRedis = await measureRedisTime(stack.admin, async () => {
    for (let i = 0; i < 200; i++) await ioredis.publish(CHANNEL, payload)
  })
  record.value(
    'Redis time per dispatch: ours (EVALSHA, inner calls included)',
    oursRedis.evalsha?.usecPerCall ?? Number.NaN,
    'µs',
    'from INFO commandstats; for one dispatch without an id the script runs GET, SET NX, PUBLISH and SET',
  )
  record.value('Redis time per PUBLISH: the floors', floorRedis.publish?.usecPerCall ?? Number.NaN, 'µs', 'from INFO commandstats')

  const http = record.compare('ours / HTTP floor', names.ours, samples[names.ours]!, names.plain, samples[names.plain]!)
  record.compare('ours / bare fetch', names.ours, samples[names.ours]!, names.fetch, samples[names.fetch]!)
  record.compare('ours / Redis floor', names.ours, samples[names.ours]!, names.tcp, samples[names.tcp]!)
  record.compare('ours (TCP) / Redis floor', names.oursTcp, samples[names.oursTcp]!, names.tcp, samples[names.tcp]!)
  record.target(
    'ours vs the HTTP floor (median)',
    `<= ${MAX_RATIO}x`,
    `${http.ofMedians.toFixed(2)}x (paired ${http.paired.toFixed(2)}x)`,
    http.ofMedians <= MAX_RATIO,
  )
  record.note(
    'The HTTP floor is `new Redis({ url, token, enableAutoPipelining: false }).publish(channel, payload)`: one POST / per call. ' +
      'Ours is one POST / carrying one EVALSHA, the script call of a tick holding this one dispatch. ' +
      'All variants publish the same payload bytes to the same channel (no subscribers) on the same redis-server.',
  )
  return record.result
}
