import type { CaseRecorder } from '../results'
import type { Tally } from './ledger'
import { MIX } from './plan'
import type { RecipientCost } from './recipient-cost'

/** What one step of the load run measured. */
export interface LoadStep {
  inFlight: number
  dispatchesPerSecond: number
  recipientsPerSecond: number
  /** ms from dispatch() to settled, every process's. */
  latencies: number[]
  /** Seconds of CPU redis-server used per second of the step. */
  redisCpu: number
  /** Seconds Redis spent running the dispatch script per second of the step (INFO commandstats). */
  scriptShare: number
  scriptCalls: number
  errors: number
  firstError?: string
}

/** The offline store's hash after the run: one record on Upstash, whatever its number of fields. */
export interface StoreSize {
  fields: number
  /** Its fields' names and values, in bytes. */
  bytes: number
  /** The longest value, in bytes. */
  largest: number
}

const counts = [...new Set(MIX)].map((count) => `${count.toLocaleString('en-US')} x${MIX.filter((each) => each === count).length}`)
const average = MIX.reduce((sum, each) => sum + each, 0) / MIX.length

/** The names of the load case's figures, which docs/capacity.md's generated table reads back from bench/results.json. */
export const LOAD_FIGURES = {
  mix: `every ${MIX.length} dispatches of a process cycle through ${counts.join(', ')} recipients (${Math.round(average)} on average), a quarter of them offline`,
  dispatch: 'Redis time of a dispatch to one online recipient',
  online: 'Redis time per further recipient, online',
  offline: 'Redis time per further recipient, offline with an empty backlog',
  offlineAtCaps: 'Redis time per recipient offline at the default caps',
  inFlight: 'at saturation: dispatches in flight',
  dispatches: 'at saturation: dispatches/s',
  recipients: 'at saturation: recipients/s',
  latency: 'at saturation: latency, dispatch() to settled',
  redisCpu: 'at saturation: redis-server CPU',
  scripts: 'at saturation: Redis time in the dispatch script',
  storeBytes: 'offline store after the run: bytes in the one hash',
  storeFields: 'offline store after the run: backlogs',
  stored: 'offline store after the run: messages',
} as const

/** Records the per-recipient costs, every step, the figures at saturation, and whether anything was lost or doubled. */
export function recordLoadRun(record: CaseRecorder, run: { cost: RecipientCost; steps: LoadStep[]; tally: Tally; store: StoreSize; publishes: number }): void {
  const { cost, steps, tally, store } = run
  record.value(LOAD_FIGURES.dispatch, round(cost.dispatch), 'µs', 'EVALSHA from INFO commandstats, sync on')
  record.value(LOAD_FIGURES.online, round(cost.online), 'µs', '(1,000 online - 1 online) / 999')
  record.value(LOAD_FIGURES.offline, round(cost.offline), 'µs', '(1,000 offline - 1 online) / 999, new recipients each dispatch')
  record.value(LOAD_FIGURES.offlineAtCaps, round(cost.offlineAtCaps), 'µs', 'a backlog of 1,000 messages near 256 KiB, minus one online')
  for (const step of steps) {
    record.samples(
      `${step.inFlight} in flight: latency`,
      step.latencies,
      'ms',
      `${whole(step.dispatchesPerSecond)} dispatches/s, ${whole(step.recipientsPerSecond)} recipients/s, ${whole(step.scriptCalls)} script calls, ` +
        `redis-server CPU ${percent(step.redisCpu)}, in the script ${percent(step.scriptShare)}`,
    )
  }
  const peak = steps.reduce((best, step) => (step.dispatchesPerSecond > best.dispatchesPerSecond ? step : best))
  record.value(LOAD_FIGURES.inFlight, peak.inFlight, 'dispatches')
  record.value(LOAD_FIGURES.dispatches, Math.round(peak.dispatchesPerSecond), 'dispatches/s')
  record.value(LOAD_FIGURES.recipients, Math.round(peak.recipientsPerSecond), 'recipients/s')
  record.samples(LOAD_FIGURES.latency, peak.latencies)
  record.value(LOAD_FIGURES.redisCpu, Math.round(peak.redisCpu * 100), '% of a core', 'used_cpu_user + used_cpu_sys (INFO cpu) over the step')
  record.value(LOAD_FIGURES.scripts, Math.round(peak.scriptShare * 100), '% of the time', 'EVALSHA calls x usec_per_call (INFO commandstats) over the step')
  record.target(
    'Redis saturated before the load processes did',
    '>= 90% of the time in the script, or of a core',
    `${percent(peak.scriptShare)} of the time, ${percent(peak.redisCpu)} of a core, at ${peak.inFlight} in flight`,
    peak.scriptShare >= 0.9 || peak.redisCpu >= 0.9,
  )

  record.value('online recipients sent to', tally.online, 'recipients', `${tally.dispatches.toLocaleString('en-US')} dispatches resolved`)
  record.value('online recipients a PUBLISH named', tally.published, 'recipients', `${run.publishes.toLocaleString('en-US')} PUBLISHes heard`)
  record.value('offline recipients sent to', tally.offline, 'recipients')
  record.value('offline recipients whose backlog holds the message', tally.stored, 'recipients')
  record.value('recipients named twice for one dispatch, or named by none', tally.doubled + tally.stray, 'recipients')
  record.value(LOAD_FIGURES.storeFields, store.fields, 'backlogs', `the longest ${store.largest.toLocaleString('en-US')} B`)
  record.value(LOAD_FIGURES.stored, tally.stored, 'messages')
  record.value(LOAD_FIGURES.storeBytes, store.bytes, 'B', 'the sum of its fields and values')
  const intact = tally.published === tally.online && tally.stored === tally.offline && tally.doubled === 0 && tally.stray === 0
  record.target(
    'nothing lost or doubled',
    'every recipient reached once',
    `published ${tally.published} of ${tally.online}, stored ${tally.stored} of ${tally.offline}, doubled ${tally.doubled}, stray ${tally.stray}`,
    intact,
  )
}

const round = (value: number) => Math.round(value * 100) / 100
const whole = (value: number) => Math.round(value).toLocaleString('en-US')
const percent = (share: number) => `${Math.round(share * 100)}%`
