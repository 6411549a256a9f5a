import { Message } from '../../src/index'
import { Message as MesaMessage } from '../../test/support/mesa-dispatcher'
import { CaseRecorder, type CaseResult } from '../results'
import { interleave, time } from '../rounds'
import { pick } from '../settings'
import type { BenchStack } from '../stack'

const NAMESPACE = 'concurrent'
const CHANNEL = `ws_${NAMESPACE}`
const SIZES = [200, 5000]
const MIN_RATE_RATIO = 0.8

/**
 * Case 3: 200 and 5,000 dispatches issued at once: gateway requests, throughput against as many bare
 * auto-pipelined @upstash/redis PUBLISHes, and how many messages to one offline user survive, ours vs Mesa's.
 */
export async function runConcurrent(stack: BenchStack): Promise<CaseResult> {
  const record = new CaseRecorder('3', 'Concurrent dispatches: requests, throughput, and lost messages')
  const ours = stack.dispatcher({ namespace: NAMESPACE })
  // The offline store's caps off (Mesa's own behaviour), so that every message kept is counted: what this case
  // measures is whether concurrent dispatches lose any, not the caps (case 8 has those).
  const oursSync = stack.dispatcher({ namespace: NAMESPACE, sync: { enabled: true, maxMessages: 0, maxBytes: 0 } })
  const bare = stack.upstash(true)
  const mesa = stack.mesaDispatcher({ namespace: NAMESPACE, sync: { enabled: true } })
  const messages = Array.from({ length: Math.max(...SIZES) }, (_, n) => new Message(0, { n }, 'LOAD'))
  const payloads = messages.map((message) => `{"message":${message.json},"recipients":["user-1"]}`)
  const storedFor = async (user: string) => JSON.parse((await stack.admin.hget(`undelivered_messages_${NAMESPACE}`, user)) ?? '[]').length as number

  for (const size of SIZES) {
    const requests = async (work: () => Promise<unknown>) => {
      const before = stack.gateway.requests
      await work()
      return stack.gateway.requests - before
    }
    const oursAll = () => Promise.all(messages.slice(0, size).map((message) => ours.dispatch(message, ['user-1'])))
    const bareAll = () => Promise.all(payloads.slice(0, size).map((payload) => bare.publish(CHANNEL, payload)))
    record.value(`${size}: gateway requests, ours sync off`, await requests(oursAll), 'requests')
    record.value(`${size}: gateway requests, bare auto-pipelined PUBLISH`, await requests(bareAll), 'requests')
    await stack.admin.del(`undelivered_messages_${NAMESPACE}`)
    const syncOn = () => Promise.all(messages.slice(0, size).map((message) => oursSync.dispatch(message, ['offline-user'])))
    record.value(`${size}: gateway requests, ours sync on`, await requests(syncOn), 'requests')

    const names = { ours: `${size}: ours sync off`, bare: `${size}: bare auto-pipelined PUBLISH` }
    const samples = await interleave(
      [
        { name: names.ours, run: oursAll },
        { name: names.bare, run: bareAll },
      ],
      { rounds: pick(size > 1000 ? 12 : 40, 3), warmup: pick(2, 1) },
    )
    const rates = (values: number[]) => values.map((ms) => (size * 1000) / ms)
    record.samples(`${names.ours}, throughput`, rates(samples[names.ours]!), 'dispatches/s')
    record.samples(`${names.bare}, throughput`, rates(samples[names.bare]!), 'PUBLISH/s')
    // Rates are inverse times, so ours/bare by rate is bare/ours by time.
    const byTime = record.compare(
      `${size}: bare time / ours time (= ours rate / bare rate)`,
      names.bare,
      samples[names.bare]!,
      names.ours,
      samples[names.ours]!,
    )
    record.target(
      `${size} concurrent, sync off: ours rate vs bare rate (median)`,
      `>= ${MIN_RATE_RATIO}x`,
      `${byTime.ofMedians.toFixed(2)}x (paired ${byTime.paired.toFixed(2)}x)`,
      byTime.ofMedians >= MIN_RATE_RATIO,
    )

    // Sync on, every dispatch to one offline user: how many stored messages survive.
    const user = `offline-${size}`
    const oursMs = await time(() => Promise.all(messages.slice(0, size).map((message) => oursSync.dispatch(message, [user]))))
    const oursKept = await storedFor(user)
    const mesaUser = `mesa-offline-${size}`
    const mesaMessages = Array.from({ length: size }, (_, n) => new MesaMessage(0, { n }, 'LOAD'))
    const mesaMs = await time(async () => {
      for (const message of mesaMessages) mesa.dispatcher.dispatch(message, [mesaUser])
      await mesa.settle()
    })
    const mesaKept = await storedFor(mesaUser)
    record.value(`${size}: stored of ${size}, ours sync on (one offline user)`, oursKept, 'messages', `all settled in ${oursMs.toFixed(0)} ms`)
    record.value(`${size}: stored of ${size}, Mesa's Dispatcher (one offline user)`, mesaKept, 'messages', `all settled in ${mesaMs.toFixed(0)} ms`)
    record.target(
      `${size} concurrent to one offline user: nothing lost`,
      `${size} of ${size} stored`,
      `${oursKept} of ${size} (Mesa: ${mesaKept})`,
      oursKept === size,
    )
  }
  record.note(
    'The bare side is `new Redis({ url, token, enableAutoPipelining: true })` from @upstash/redis, publishing the same payloads: ' +
      'it packs commands issued in the same tick into /pipeline requests of at most 1,000 commands. Ours packs the dispatches of a tick ' +
      'into script calls of at most 1,000 dispatches, each call one EVALSHA in one POST /, so Lua starts once per 1,000 dispatches. ' +
      'Throughput is n / wall time of all n settling.',
  )
  record.note(
    'The gateway and its ioredis connection run in this same Node process, so their cost per command and per argument (a dispatch ' +
      "carries 3 arguments in a shared call, a PUBLISH 3 of its own) is counted on both sides; a hosted REST endpoint would not spend the caller's CPU on it.",
  )
  return record.result
}
