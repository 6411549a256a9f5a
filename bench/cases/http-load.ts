import { setTimeout as sleep } from 'node:timers/promises'
import autocannon from 'autocannon'
import { serveFetch } from '../../dev/serve-fetch'
import edge from '../../functions/edge'
import { DISPATCH_TOKEN } from '../handlers'
import { withoutAppLogs } from '../quiet'
import { CaseRecorder, type CaseResult } from '../results'
import { pick } from '../settings'
import type { BenchStack } from '../stack'

const CONNECTIONS = 16

/**
 * Case 6: the edge handler served by dev/serve-fetch.ts, driven by autocannon, with /health (no Redis) in
 * alternating runs as the adapter's own ceiling. autocannon, the server and the gateway share one process and
 * redis-server the other core, so these are figures for this rig, not for a deployment.
 */
export async function runHttpLoad(stack: BenchStack): Promise<CaseResult> {
  const record = new CaseRecorder('6', 'The HTTP endpoint under load (edge handler on dev/serve-fetch.ts, autocannon)')
  // The edge handler builds one app per bindings object, as Workers hand the same bindings to every request.
  const bindings = {
    UPSTASH_REDIS_REST_URL: stack.connection.url,
    UPSTASH_REDIS_REST_TOKEN: stack.connection.token,
    DISPATCH_TOKEN,
    MESA_NAMESPACE: 'http-load',
    MESA_SYNC: 'false',
  }
  let inFlight = 0
  const server = await serveFetch(async (request) => {
    inFlight++
    try {
      return await edge.fetch(request, bindings)
    } finally {
      inFlight--
    }
  })
  stack.onClose(() => server.close())
  const body = JSON.stringify({ message: { d: { content: 'hello under load' }, t: 'LOAD' }, recipients: ['user-1'] })
  const dispatch: autocannon.Options = {
    url: `${server.url}/dispatch`,
    method: 'POST',
    headers: { authorization: `Bearer ${DISPATCH_TOKEN}`, 'content-type': 'application/json' },
    body,
  }
  const health: autocannon.Options = { url: `${server.url}/health` }
  const runs = { dispatch: [] as autocannon.Result[], health: [] as autocannon.Result[] }
  const duration = pick(4, 1)
  await withoutAppLogs(async () => {
    // Alternate the two, so that a noisy stretch of the machine hits both.
    for (let round = 0; round < pick(3, 1); round++) {
      for (const key of round % 2 === 0 ? (['dispatch', 'health'] as const) : (['health', 'dispatch'] as const)) {
        const options = key === 'dispatch' ? dispatch : health
        runs[key].push(await autocannon({ ...options, connections: CONNECTIONS, duration }))
        // autocannon stops without waiting for the answers in flight; let them finish before the next run or the close.
        while (inFlight > 0) await sleep(5)
      }
    }
  })

  for (const [key, name] of [
    ['dispatch', 'POST /dispatch (1 recipient, sync off)'],
    ['health', 'GET /health (no Redis: the adapter and app alone)'],
  ] as const) {
    const results = runs[key]
    record.samples(
      `${name}: requests/s per run`,
      results.map((result) => result.requests.total / result.duration),
      'req/s',
    )
    record.samples(
      `${name}: latency p50 per run`,
      results.map((result) => result.latency.p50),
    )
    record.samples(
      `${name}: latency p99 per run`,
      results.map((result) => result.latency.p99),
    )
    const bad = results.reduce((sum, result) => sum + result.non2xx + result.errors + result.timeouts, 0)
    record.value(`${name}: non-2xx, errors and timeouts`, bad, 'responses')
    if (bad > 0) throw new Error(`case 6: ${bad} failed responses on ${name}`)
  }
  record.note(
    `Measured through the local Upstash gateway (dev/upstash-gateway.ts) and the serve-fetch adapter (dev/serve-fetch.ts), with autocannon's ` +
      `programmatic API in the same process: ${CONNECTIONS} connections, ${duration} s per run, runs alternating between the two routes. ` +
      "Requests/s is completed requests over the run time; the latency figures are autocannon's per-run percentiles, summarized over the runs.",
  )
  return record.result
}
