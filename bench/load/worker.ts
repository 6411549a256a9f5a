import { performance } from 'node:perf_hooks'
import { Dispatcher, Message } from '../../src/index'
import { dispatchId, LOAD_NAMESPACE, MIX, POOL, recipientsOf, type StepOrder, type StepReport, startOffset, type WorkerSetup } from './plan'

// One process of the load run (case 13), standing in for a fleet of Lambda instances: it keeps a number of
// dispatches in flight for a while, as ordered over IPC, and reports what it sent and how long each took.

const setup = JSON.parse(process.argv[2]!) as WorkerSetup
// The TCP transport sends the same script calls as the REST one (a tick's dispatches share one call), without
// the local gateway, a Node process that would take from the two shared cores what Redis needs.
const dispatcher = new Dispatcher(setup.redisUrl, { namespace: LOAD_NAMESPACE, sync: { enabled: true } })
let next = 0
let cursor = startOffset(setup.index, setup.processes)

async function runStep(order: StepOrder): Promise<StepReport> {
  const report: StepReport = { latencies: [], sent: [], recipients: 0, errors: 0 }
  const stopAt = performance.now() + order.durationMs
  // Each lane sends its next dispatch as soon as its last settles, so `concurrency` stay in flight until the end.
  const lane = async () => {
    while (performance.now() < stopAt) {
      const n = next++
      const count = MIX[n % MIX.length]!
      const offset = cursor
      cursor = (cursor + count) % POOL
      const id = dispatchId(setup.index, n)
      const message = new Message(0, { id, text: 'a message from the load run' }, 'LOAD')
      const started = performance.now()
      try {
        await dispatcher.dispatch(message, recipientsOf(offset, count), undefined, { id })
        report.latencies.push(performance.now() - started)
        report.sent.push(n, offset, count)
        report.recipients += count
      } catch (error) {
        report.errors++
        report.firstError ??= String(error)
      }
    }
  }
  await Promise.all(Array.from({ length: order.concurrency }, lane))
  return report
}

process.on('message', (order: StepOrder | 'close') => {
  if (order === 'close') {
    void dispatcher.close().then(() => process.disconnect())
    return
  }
  void runStep(order).then((report) => process.send!(report))
})
process.send!('ready')
