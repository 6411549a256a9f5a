import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { build } from 'esbuild'
import { buildBundles } from '../../esbuild.config.mjs'
import { httpApiEvent } from '../../test/support/events'
import { lambdaNode } from '../../test/support/node22'
import { deployedNodeOptions } from '../deployed'
import { measureStart, type StartSample, startStartRig } from '../lambda-start'
import { CaseRecorder, type CaseResult } from '../results'
import { pick } from '../settings'
import { median } from '../stats'

const ROOT = new URL('../..', import.meta.url).pathname
/** The brief's bound on an on-demand cold start, as a multiple of @upstash/redis's alone over the same round trip. */
const MAX_COLD_RATIO = 1.15
/** The brief's bound on the first dispatch after init, over a warm one, in round trips. */
const MAX_FIRST_OVER_WARM_RT = 0.5
/** Each way, in ms: round trips of 2 ms (a nearby region) and 10 ms; the goals are set at 10 ms. */
const DELAYS_MS = [1, 5]
const GOAL_DELAY_MS = 5
/** How long a provisioned instance idles after its init and between invocations. */
const IDLE_MS = 100

const DISPATCH_TOKEN = 'bench-dispatch-token-0123456789'
const CHANNEL = 'mesa-bench-start'
// One message to every client (sync off): a dispatch that is one PUBLISH, as the reference sends.
const DISPATCH = httpApiEvent({
  method: 'POST',
  path: '/dispatch',
  headers: { authorization: `Bearer ${DISPATCH_TOKEN}`, 'content-type': 'application/json' },
  body: JSON.stringify({ message: { op: 0, d: { text: 'hello' }, t: 'NOTE' } }),
})
// As serverless.yml deploys it: metrics on (one EMF line per invocation), sync off.
const FUNCTION_ENV = { DISPATCH_TOKEN, MESA_NAMESPACE: 'bench-start' }

// The same function written on @upstash/redis alone, as its README shows: one client at init, one PUBLISH per event.
const REFERENCE = `import { Redis } from '@upstash/redis'
const redis = new Redis({ url: process.env.UPSTASH_REDIS_REST_URL, token: process.env.UPSTASH_REDIS_REST_TOKEN })
export const handler = () => redis.publish(${JSON.stringify(CHANNEL)}, '{"op":0,"d":{"text":"hello"},"t":"NOTE"}')
`

/**
 * Case 9: the http function's start-up on Node 22 as deployed (the built bundle, serverless.yml's NODE_OPTIONS),
 * through a proxy that delays each way, paired round by round with the same function on @upstash/redis alone: an
 * on-demand cold start end to end, and a provisioned instance's init, first and second dispatch.
 */
export async function runStartUp(): Promise<CaseResult> {
  const record = new CaseRecorder('9', 'Start-up on Node 22: on-demand cold start and first dispatch after init, against @upstash/redis alone')
  const outdir = mkdtempSync(join(tmpdir(), 'mesa-bench-start-'))
  const rig = await startStartRig()
  try {
    const node = lambdaNode()
    const nodeOptions = await deployedNodeOptions()
    const [http] = await buildBundles({ only: ['http'], outdir })
    const reference = await buildReference(outdir)
    // Each start is a fresh process and the paired ratio moves by several hundredths between runs of 15 rounds.
    const rounds = pick(31, 3)
    const ours =
      (env: Record<string, string>, idleMs = 0) =>
      (delayMs: number) =>
        measureStart(rig, http!.file, { delayMs, env: { ...FUNCTION_ENV, ...env }, events: [DISPATCH, DISPATCH], nodeOptions, idleMs })
    const alone =
      (env: Record<string, string>, idleMs = 0) =>
      (delayMs: number) =>
        measureStart(rig, reference, { delayMs, env, events: [{}, {}], nodeOptions: '', idleMs })
    const onDemand = { AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand' }
    const provisioned = { AWS_LAMBDA_INITIALIZATION_TYPE: 'provisioned-concurrency' }
    const flush = () => rig.admin.script('FLUSH')

    for (const delayMs of DELAYS_MS) {
      const rt = 2 * delayMs
      const at = `${rt} ms round trip`
      const variants: Array<[string, (delayMs: number) => Promise<StartSample>, (() => Promise<unknown>)?]> = [
        ['ours, on-demand', ours(onDemand)],
        ['@upstash/redis alone, on-demand', alone(onDemand)],
        ['ours, provisioned', ours(provisioned, IDLE_MS)],
        ['@upstash/redis alone, provisioned', alone(provisioned, IDLE_MS)],
        ['ours, provisioned, Redis without the script', ours(provisioned, IDLE_MS), flush],
      ]
      const samples: Record<string, StartSample[]> = Object.fromEntries(variants.map(([name]) => [name, []]))
      // One discarded round, then rounds rotating which variant goes first; the processes never overlap.
      for (let round = 0; round < rounds + 1; round++) {
        for (let k = 0; k < variants.length; k++) {
          const [name, start, before] = variants[(round + k) % variants.length]!
          await before?.()
          const sample = await start(delayMs)
          checkAnswers(name, sample)
          if (round > 0) samples[name]!.push(sample)
        }
      }
      const of = (name: string) => samples[name]!
      const cold = record.compare(
        `on-demand cold start, process start to first answer, ${at}`,
        'ours',
        of('ours, on-demand').map((each) => each.firstAnswer),
        '@upstash/redis alone',
        of('@upstash/redis alone, on-demand').map((each) => each.firstAnswer),
      )
      for (const [name] of variants) {
        const list = of(name)
        record.samples(
          `${name}, ${at}: process start to first answer`,
          list.map((each) => each.firstAnswer),
        )
        record.samples(
          `${name}, ${at}: init (the import)`,
          list.map((each) => each.init.ms),
          'ms',
          costNote(list, 'init', rt),
        )
        record.samples(
          `${name}, ${at}: first invocation`,
          list.map((each) => each.invocations[0]!.ms),
          'ms',
          costNote(list, 0, rt),
        )
        record.samples(
          `${name}, ${at}: second invocation`,
          list.map((each) => each.invocations[1]!.ms),
          'ms',
          costNote(list, 1, rt),
        )
      }
      const warm = median(of('ours, provisioned').map((each) => each.invocations[1]!.ms))
      const first = median(of('ours, provisioned').map((each) => each.invocations[0]!.ms))
      const firstCost = costNote(of('ours, provisioned'), 0, rt)
      // Its requests and new connections say whether the network part is a warm dispatch's; the rest is CPU.
      record.target(
        `http: first dispatch after init (provisioned) over a warm one, ${at}`,
        `<= warm + ${MAX_FIRST_OVER_WARM_RT} round trip (${(warm + MAX_FIRST_OVER_WARM_RT * rt).toFixed(1)} ms)`,
        `${first.toFixed(1)} ms, warm ${warm.toFixed(1)} ms: ${signed((first - warm) / rt, 2)} round trip (${signed(first - warm)} ms); first: ${firstCost}`,
        first <= warm + MAX_FIRST_OVER_WARM_RT * rt,
      )
      if (delayMs === GOAL_DELAY_MS) {
        const oursCold = of('ours, on-demand')
        const aloneCold = of('@upstash/redis alone, on-demand')
        // Ours loads fetch in its init, which @upstash/redis alone loads in its first invocation: the sum is what counts.
        const initGap = median(oursCold.map((each) => each.init.ms)) - median(aloneCold.map((each) => each.init.ms))
        const dispatchGap = median(oursCold.map((each) => each.invocations[0]!.ms)) - median(aloneCold.map((each) => each.invocations[0]!.ms))
        record.target(
          `http: on-demand cold start as deployed (NODE_OPTIONS=${nodeOptions || 'none'}), ${at}, against @upstash/redis alone (median of paired ratios)`,
          `<= ${MAX_COLD_RATIO}x`,
          `${cold.paired.toFixed(2)}x (${median(oursCold.map((each) => each.firstAnswer)).toFixed(1)} ms against ${median(aloneCold.map((each) => each.firstAnswer)).toFixed(1)} ms: ` +
            `the init ${signed(initGap)} ms, the first invocation ${signed(dispatchGap)} ms)`,
          cold.paired <= MAX_COLD_RATIO,
        )
      }
    }
    record.note(
      `Each sample is a fresh process of ${node.includes('node22') ? 'Node 22 (tools/node22)' : node} running test/support/lambda-runtime.mjs as Lambda's runtime runs a handler: ` +
        `import the bundle (the init, top-level await included), then invoke it twice, with NODE_OPTIONS=${nodeOptions || '(none)'} as serverless.yml deploys it and nothing preloaded. ` +
        `"@upstash/redis alone" is the same function written on @upstash/redis (its main entry, bundled the same way): \`new Redis({ url, token })\` at init, one PUBLISH per event. ` +
        'Between each process and the gateway a proxy (test/support/delay-proxy.ts) holds every chunk the given time each way, and a new connection one more round trip (its TCP handshake; TLS is not modelled). ' +
        `AWS_LAMBDA_INITIALIZATION_TYPE says on-demand or provisioned-concurrency, as Lambda does; a provisioned instance idles ${IDLE_MS} ms after its init and between invocations. ` +
        '"Without the script" flushes Redis\'s script cache before the process starts. Requests are counted at the gateway and connections at the proxy, by when they came. ' +
        `${rounds} rounds (plus one discarded) rotate through the variants. Process start is Node's performance.timeOrigin.`,
    )
    return record.result
  } finally {
    await rig.close()
    rmSync(outdir, { recursive: true, force: true })
  }
}

/** Bundles the reference function the way the Lambda bundles are built: minified ESM for Node 22, beside a package.json marking it ESM. */
async function buildReference(outdir: string): Promise<string> {
  const file = join(outdir, 'upstash-alone', 'index.js')
  await build({
    stdin: { contents: REFERENCE, resolveDir: ROOT, loader: 'js' },
    outfile: file,
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    conditions: ['module'],
    logLevel: 'silent',
  })
  writeFileSync(join(dirname(file), 'package.json'), '{"type":"module"}\n')
  return file
}

/** Fails the run when an invocation did not do its work: the http function answers 200, the reference a subscriber count. */
function checkAnswers(name: string, sample: StartSample): void {
  for (const result of sample.results) {
    const ok = typeof result === 'number' || (typeof result === 'object' && result !== null && (result as { statusCode?: number }).statusCode === 200)
    if (!ok) throw new Error(`${name}: an invocation answered ${JSON.stringify(result)}`)
  }
}

/** A step's median requests and connections, and its median time in round trips. */
function costNote(samples: StartSample[], step: 'init' | number, rt: number): string {
  const costs = samples.map((each) => (step === 'init' ? each.init : each.invocations[step]!))
  const ms = median(costs.map((each) => each.ms))
  return `${(ms / rt).toFixed(2)} round trips; ${median(costs.map((each) => each.requests))} request(s), ${median(costs.map((each) => each.connections))} new connection(s)`
}

function signed(value: number, digits = 1): string {
  return `${value >= 0 ? '+' : ''}${value.toFixed(digits)}`
}
