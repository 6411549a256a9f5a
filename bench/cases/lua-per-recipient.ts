import { Message } from '../../src/index'
import { measureRedisTime } from '../redis-stats'
import { CaseRecorder, type CaseResult } from '../results'
import { pick } from '../settings'
import type { BenchStack } from '../stack'
import { median } from '../stats'

const NAMESPACE = 'per-recipient'
const CONNECTED = `connected_clients_${NAMESPACE}`
const HASH = `undelivered_messages_${NAMESPACE}`
const INDEX = `mesa_dispatch_backlogs_${NAMESPACE}`
/** The three mixes of a dispatch's recipients: which of them are online. */
const MIXES: Array<[string, (index: number) => boolean]> = [
  ['all online', () => true],
  ['half online', (index) => index % 2 === 0],
  ['all offline', () => false],
]

/** Redis's own time for one dispatch, in µs: the script calls, and the commands the script ran inside them. */
interface DispatchTime {
  script: number
  inner: number
  calls: number
}

/**
 * Case 12: Redis's time per recipient of one dispatch, for 1,000 and 10,000 recipients all online, half and all
 * offline (each offline one with an empty backlog: nothing stored, no index entry), beside the time of the
 * commands the script ran, so that what the Lua itself costs per recipient shows.
 */
export async function runLuaPerRecipient(stack: BenchStack): Promise<CaseResult> {
  const record = new CaseRecorder('12', 'Lua per recipient: Redis time per recipient of one dispatch, against the commands inside it')
  const dispatcher = stack.dispatcher({ namespace: NAMESPACE, sync: { enabled: true } })
  const message = new Message(0, { content: 'hello to a big room', author: 'bench' }, 'NEW_MESSAGE')
  for (const size of [1000, 10_000]) {
    const recipients = Array.from({ length: size }, (_, i) => `user-${i}`)
    for (const [mix, isOnline] of MIXES) {
      await stack.admin.del(CONNECTED, HASH, INDEX)
      const online = recipients.filter((_, i) => isOnline(i))
      for (let from = 0; from < online.length; from += 1000) await stack.admin.sadd(CONNECTED, ...online.slice(from, from + 1000))
      const rounds = size === 1000 ? pick(15, 2) : pick(5, 1)
      const times: DispatchTime[] = []
      // One warm-up round: Redis loads the script, and the connections open.
      for (let round = 0; round <= rounds; round++) {
        await stack.admin.del(HASH, INDEX)
        const time = await timeDispatch(stack, () => dispatcher.dispatch(message, recipients))
        if (round > 0) times.push(time)
      }
      const script = median(times.map((each) => each.script)) / size
      const inner = median(times.map((each) => each.inner)) / size
      const label = `${size.toLocaleString('en')} recipients, ${mix}`
      record.value(
        `${label}: Redis time per recipient (EVALSHA)`,
        round(script),
        'µs',
        `median of ${rounds} dispatches, ${times[0]!.calls} script call(s) each`,
      )
      record.value(`${label}: of which the commands inside the script`, round(inner), 'µs', `the Lua itself: ${round(script - inner)} µs`)
    }
  }
  record.note(
    'Each dispatch starts from an empty offline store (no value, no index entry), so an offline recipient costs what a ' +
      'new one does. Times are from INFO commandstats, reset before each dispatch: EVALSHA is the whole script call, and ' +
      'the other commands counted are the ones the script ran inside it (Redis counts them under their own names too).',
  )
  return record.result
}

/** Redis's time for one dispatch, in µs: every EVALSHA it made, and every other command counted meanwhile. */
async function timeDispatch(stack: BenchStack, dispatch: () => Promise<unknown>): Promise<DispatchTime> {
  const stats = await measureRedisTime(stack.admin, dispatch)
  const total = (name: string) => (stats[name] ? stats[name]!.calls * stats[name]!.usecPerCall : 0)
  const inner = Object.keys(stats)
    .filter((name) => name !== 'evalsha' && name !== 'eval')
    .reduce((sum, name) => sum + total(name), 0)
  return { script: total('evalsha'), inner, calls: stats.evalsha?.calls ?? 0 }
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000
}
