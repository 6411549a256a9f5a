import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis as IORedis } from 'ioredis'
import { release } from '../../dev/mesa-server'
import { startRedisServer } from '../../dev/redis-server'
import { LOAD_FIGURES, type LoadStep, recordLoadRun, type StoreSize } from '../load/figures'
import { type Fleet, startFleet } from '../load/fleet'
import { Ledger } from '../load/ledger'
import { isOffline, LOAD_NAMESPACE, POOL } from '../load/plan'
import { measureRecipientCost } from '../load/recipient-cost'
import { readCommandStats, readRedisCpuSeconds, resetCommandStats } from '../redis-stats'
import { CaseRecorder, type CaseResult } from '../results'
import { pick, QUICK } from '../settings'

const PROCESSES = pick(8, 2)
/** Dispatches each process keeps in flight, step by step, until Redis saturates. */
const STEPS = QUICK ? [4, 100] : [2, 10, 50, 150, 500]
const STEP_MS = pick(4000, 500)
/**
 * Redis is saturated once it runs the dispatch script this much of the time (clients then queue behind it), or
 * spends this much of a core, or once a step raises dispatches/s by less than MIN_GAIN.
 */
const SATURATED = 0.9
const MIN_GAIN = 1.1

/**
 * Case 13: processes standing in for Lambda instances send mixed dispatches (1 to 1,000 recipients, a quarter of
 * them offline) to one redis-server, more at each step until Redis saturates; then every PUBLISH a subscriber heard
 * and every message stored is checked against what was sent.
 */
export async function runLoad(): Promise<CaseResult> {
  const record = new CaseRecorder('13', 'Load: one Redis taking mixed dispatches from several processes until it saturates')
  const redis = await startRedisServer()
  const admin = new IORedis(redis.url)
  const subscriber = new IORedis(redis.url)
  let fleet: Fleet | undefined
  try {
    // A subscriber that reads slower than Redis publishes is cut off at 32 MB by default; this one must hear everything.
    await admin.config('SET', 'client-output-buffer-limit', 'pubsub 0 0 0')
    const cost = await measureRecipientCost(redis.url, admin, pick(50, 5))
    const online = Array.from({ length: POOL }, (_, i) => i).filter((i) => !isOffline(i))
    for (let from = 0; from < online.length; from += 10_000) {
      await admin.sadd(`connected_clients_${LOAD_NAMESPACE}`, ...online.slice(from, from + 10_000).map((i) => `u${i}`))
    }
    const ledger = new Ledger()
    // Kept until the run ends: a PUBLISH can be heard before its process has reported the dispatch sent.
    const heard: string[] = []
    subscriber.on('message', (_channel: string, payload: string) => heard.push(payload))
    await subscriber.subscribe(`ws_${LOAD_NAMESPACE}`)

    fleet = await startFleet(redis.url, PROCESSES)
    const steps: LoadStep[] = []
    for (const concurrency of STEPS) {
      const step = await runStep(fleet, admin, ledger, concurrency)
      steps.push(step)
      const previous = steps.at(-2)
      if (step.errors > 0) throw new Error(`case 13: ${step.errors} dispatches failed at ${step.inFlight} in flight: ${step.firstError}`)
      if (isSaturated(step) || (previous && step.dispatchesPerSecond < previous.dispatchesPerSecond * MIN_GAIN)) break
    }
    await fleet.close()
    fleet = undefined
    await settle(() => heard.length)
    for (const payload of heard) ledger.markPublished(payload)
    const store = await readBacklogs(admin, ledger)
    recordLoadRun(record, { cost, steps, tally: ledger.tally(), store, publishes: heard.length })
  } finally {
    await fleet?.close()
    await release(subscriber)
    await release(admin)
    await redis.stop()
  }
  record.note(
    `${PROCESSES} processes (bench/load/worker.ts) each keep N dispatches in flight, sending the next as soon as one settles, for ` +
      `${STEP_MS / 1000} s a step, N = ${STEPS.join(', ')} until Redis runs the script ${SATURATED * 100}% of the time or spends as much of a core, or a step adds less ` +
      `than ${Math.round((MIN_GAIN - 1) * 100)}% to dispatches/s. Each process is one Dispatcher, as a Lambda instance holds; one ` +
      "process sending many at once stands for many instances, whose dispatches of one tick share a script call as an instance's do.",
  )
  record.note(
    'Over TCP (redis://, ioredis), not REST: the script calls are the same, and the local gateway would be one more Node process ' +
      'on the two cores Redis needs, where a hosted Upstash scales its REST front end apart from the database. The load processes, ' +
      'the subscriber and this process share the two cores with redis-server, so the Redis CPU at the top step is what was left to it.',
  )
  record.note(
    `Recipients: ${LOAD_FIGURES.mix}. Every dispatch has an id (its dedupe key) carried in its message; a subscriber on ws_${LOAD_NAMESPACE} ` +
      'marks each online recipient each PUBLISH names, and after the run every backlog is read and each offline recipient marked per ' +
      'message it holds: a recipient marked twice is doubled, one never marked is lost.',
  )
  return record.result
}

/** Runs one step in every process and measures it: throughput, latency, and Redis's CPU and script time. */
async function runStep(fleet: Fleet, admin: IORedis, ledger: Ledger, concurrency: number): Promise<LoadStep> {
  await resetCommandStats(admin)
  const cpuBefore = await readRedisCpuSeconds(admin)
  const started = performance.now()
  const reports = await fleet.step({ concurrency, durationMs: STEP_MS })
  const seconds = (performance.now() - started) / 1000
  const cpu = (await readRedisCpuSeconds(admin)) - cpuBefore
  const script = (await readCommandStats(admin)).evalsha
  for (const [worker, report] of reports.entries()) ledger.addSent(worker, report.sent)
  const dispatches = reports.reduce((sum, report) => sum + report.latencies.length, 0)
  return {
    inFlight: concurrency * PROCESSES,
    dispatchesPerSecond: dispatches / seconds,
    recipientsPerSecond: reports.reduce((sum, report) => sum + report.recipients, 0) / seconds,
    latencies: reports.flatMap((report) => report.latencies),
    redisCpu: cpu / seconds,
    scriptShare: script ? (script.calls * script.usecPerCall) / 1e6 / seconds : 0,
    scriptCalls: script?.calls ?? 0,
    errors: reports.reduce((sum, report) => sum + report.errors, 0),
    firstError: reports.find((report) => report.firstError)?.firstError,
  }
}

const isSaturated = (step: LoadStep) => step.scriptShare >= SATURATED || step.redisCpu >= SATURATED

/** Waits until the subscriber has heard nothing new for 300 ms (at most 10 s): the PUBLISHes still in its socket. */
async function settle(heard: () => number): Promise<void> {
  const deadline = performance.now() + 10_000
  let last = -1
  while (heard() !== last && performance.now() < deadline) {
    last = heard()
    await sleep(300)
  }
}

/** Reads every backlog of the load namespace into the ledger, and sizes the hash that holds them. */
async function readBacklogs(admin: IORedis, ledger: Ledger): Promise<StoreSize> {
  const size: StoreSize = { fields: 0, bytes: 0, largest: 0 }
  let cursor = '0'
  do {
    const [next, entries] = await admin.hscan(`undelivered_messages_${LOAD_NAMESPACE}`, cursor, 'COUNT', 1000)
    for (let i = 0; i < entries.length; i += 2) {
      const [field, value] = [entries[i]!, entries[i + 1]!]
      ledger.markStored(field, value)
      size.fields++
      size.bytes += Buffer.byteLength(field) + Buffer.byteLength(value)
      size.largest = Math.max(size.largest, Buffer.byteLength(value))
    }
    cursor = next
  } while (cursor !== '0')
  return size
}
