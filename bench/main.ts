import { performance } from 'node:perf_hooks'
import { runBacklogPages } from './cases/backlog-pages'
import { runBatches } from './cases/batches'
import { runColdStart } from './cases/cold-start'
import { runConcurrent } from './cases/concurrent'
import { runEndToEnd } from './cases/end-to-end'
import { runFanout } from './cases/fanout'
import { runHttpLoad } from './cases/http-load'
import { runKeys } from './cases/keys'
import { runLoad } from './cases/load'
import { runLuaPerRecipient } from './cases/lua-per-recipient'
import { runOfflineStore } from './cases/offline-store'
import { runSingle } from './cases/single'
import { runStartUp } from './cases/start-up'
import { describeMachine } from './machine'
import { renderTables, writeReports } from './report'
import type { CaseResult, Results } from './results'
import { isSelected, ONLY, QUICK } from './settings'
import { type BenchStack, startBenchStack } from './stack'

/** Every case that shares the redis-server and gateway, in the order they run. */
const STACK_CASES: Array<[string, (stack: BenchStack) => Promise<CaseResult>]> = [
  ['1 single', runSingle],
  ['2 fan-out', runFanout],
  ['3 concurrent', runConcurrent],
  ['4 batches', runBatches],
  ['5 end to end', runEndToEnd],
  ['6 HTTP load', runHttpLoad],
  ['8 offline store', runOfflineStore],
  ['10 keys', runKeys],
  ['11 backlog pages', runBacklogPages],
  ['12 Lua per recipient', runLuaPerRecipient],
]

/** Every case that starts fresh processes of its own, run after the shared stack is gone. */
const PROCESS_CASES: Array<[string, () => Promise<CaseResult>]> = [
  ['7 cold start', runColdStart],
  ['9 start-up', runStartUp],
  ['13 load', runLoad],
]

async function main(): Promise<void> {
  const started = performance.now()
  const machine = describeMachine()
  const partial = ONLY ? ` (BENCH_ONLY=${ONLY.join(',')}: those cases alone, nothing written)` : ''
  console.log(
    `npm run bench${QUICK ? ' (BENCH_QUICK=1: few iterations, nothing written)' : ''}${partial} on ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, redis-server ${machine.redisServer}`,
  )
  const cases: CaseResult[] = []
  const stackCases = STACK_CASES.filter(([name]) => isSelected(name))
  if (stackCases.length > 0) {
    const stack = await startBenchStack()
    try {
      for (const [name, run] of stackCases) cases.push(await step(name, () => run(stack)))
    } finally {
      await stack.close()
    }
  }
  // Fresh processes, after the shared stack is gone, so the imports and starts do not compete with it for the two cores.
  for (const [name, run] of PROCESS_CASES.filter(([each]) => isSelected(each))) cases.push(await step(name, run))

  const results: Results = {
    command: 'npm run bench',
    quick: QUICK,
    durationSeconds: Math.round((performance.now() - started) / 1000),
    machine,
    cases,
  }
  console.log(`\n${renderTables(results, 'text')}\n`)
  if (QUICK || ONLY) {
    console.log(`${QUICK ? 'quick' : 'partial'} run: bench/results.json, BENCHMARKS.md and docs/capacity.md left unchanged`)
  } else {
    writeReports(results)
    console.log('wrote bench/results.json, BENCHMARKS.md and the tables of docs/capacity.md')
  }
}

async function step(name: string, run: () => Promise<CaseResult>): Promise<CaseResult> {
  const started = performance.now()
  process.stdout.write(`case ${name} ... `)
  const result = await run()
  console.log(`${((performance.now() - started) / 1000).toFixed(1)} s`)
  return result
}

// If anything still holds the event loop once main() is done, say what instead of hanging; unref'd, so a
// clean exit is never delayed by it.
const reportLeftovers = () =>
  setTimeout(() => {
    console.error(`bench: still running 10 s after finishing, held by: ${process.getActiveResourcesInfo().join(', ')}`)
    process.exit(1)
  }, 10_000).unref()

main().then(reportLeftovers, (error: unknown) => {
  console.error(error)
  process.exitCode = 1
  reportLeftovers()
})
