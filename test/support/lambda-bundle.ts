import { existsSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { lambdaNode } from './node22'
import { runCommand } from './processes'
import { ROOT } from './serverless-cli'

/** How one invocation of a built Lambda bundle ended, in a fresh `node` process. */
export interface BundleRun {
  /** What the handler returned, what it threw, or what importing the bundle threw (Lambda's init error). */
  outcome: { result: unknown } | { thrown: ErrorShape } | { initError: ErrorShape }
  /** Every JSON line the process wrote to stdout: the log lines and EMF lines, as CloudWatch Logs would get them. */
  lines: Record<string, unknown>[]
  /** stdout as written, for assertions that no secret reached it. */
  stdout: string
  stderr: string
  /** Every connection or DNS lookup the offline guard refused: only loopback may be reached. */
  networkAttempts: string[]
}

/** An error as a caller sees it: what Lambda reports as errorType and errorMessage. */
export interface ErrorShape {
  name: string
  message: string
}

const GUARD = join(ROOT, 'test', 'support', 'offline-guard.cjs')
const DUAL_STACK = join(ROOT, 'test', 'support', 'dual-stack-localhost.cjs')
const RUNTIME = join(ROOT, 'test', 'support', 'lambda-runtime.mjs')
const OUTCOME = '@@outcome '

/** Options for one invocation. */
export interface InvokeOptions {
  /** Resolve `localhost` to ::1 and 127.0.0.1, as many hosts do (test/support/dual-stack-localhost.cjs). */
  dualStackLocalhost?: boolean
}

/** Options for a run of several invocations. */
export interface SessionOptions extends InvokeOptions {
  /** How long the instance idles before each invocation, as a provisioned one does after its init. @default 0 */
  idleMs?: number
  /** NODE_OPTIONS for the runtime, besides the offline guard's preloads, e.g. `--enable-source-maps`. @default none */
  nodeOptions?: string
  /** Preload the offline guard, as every test should; the benchmark runs the bundle as deployed, without it. @default true */
  offlineGuard?: boolean
}

/** When a step began and ended, in milliseconds since the process started (`performance.now()`). */
export interface StepTimes {
  start: number
  end: number
}

/** A fresh execution environment's life: its init, then each invocation in turn. */
export interface BundleSession {
  init: ({ init: 'done' } | { initError: ErrorShape; stack: string[] }) & { initStart: number; initEnd: number; timeOrigin: number }
  invocations: Array<({ result: unknown } | { thrown: ErrorShape; stack: string[] }) & StepTimes>
  lines: Record<string, unknown>[]
  stdout: string
  stderr: string
  networkAttempts: string[]
}

/**
 * Runs a built Lambda bundle as Lambda's Node runtime would (test/support/lambda-runtime.mjs): in a fresh process
 * of the Lambda runtime's Node (22) with nothing but `env` (and PATH) in its environment and the offline guard
 * preloaded, letting only loopback through, it imports the bundle, then calls its handler with each event in turn.
 */
export async function runBundle(file: string, events: unknown[], env: Record<string, string>, options: SessionOptions = {}): Promise<BundleSession> {
  const guardLog = `${file}.network-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.log`
  const preloads = [...(options.offlineGuard === false ? [] : [GUARD]), ...(options.dualStackLocalhost ? [DUAL_STACK] : [])]
  const nodeOptions = [...preloads.map((preload) => `--require ${JSON.stringify(preload)}`), ...(options.nodeOptions ? [options.nodeOptions] : [])]
  const run = await runCommand(lambdaNode(), [RUNTIME, pathToFileURL(file).href, nameOf(file), JSON.stringify(events), String(options.idleMs ?? 0)], {
    env: {
      PATH: process.env.PATH,
      NODE_OPTIONS: nodeOptions.join(' '),
      OFFLINE_GUARD_LOG: guardLog,
      OFFLINE_GUARD_ALLOW: 'loopback',
      ...env,
    },
    timeoutMs: 30_000,
  })
  const marked = run.stdout
    .split('\n')
    .filter((line) => line.startsWith(OUTCOME))
    .map((line) => JSON.parse(line.slice(OUTCOME.length)) as object)
  const [init, ...invocations] = marked
  if (run.code !== 0 || !init || ('init' in init && invocations.length !== events.length)) {
    throw new Error(`the ${nameOf(file)} bundle did not finish (exit ${run.code})\n${run.stdout}\n${run.stderr}`)
  }
  const lines = run.stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
  const networkAttempts = existsSync(guardLog) ? readFileSync(guardLog, 'utf8').split('\n').filter(Boolean) : []
  rmSync(guardLog, { force: true })
  return {
    init: init as BundleSession['init'],
    invocations: invocations as BundleSession['invocations'],
    lines,
    stdout: run.stdout,
    stderr: run.stderr,
    networkAttempts,
  }
}

/** Invokes a built Lambda bundle's handler once, in a fresh process as runBundle() does, with no NODE_OPTIONS of Lambda's. */
export async function invokeBundle(file: string, event: unknown, env: Record<string, string>, options: InvokeOptions = {}): Promise<BundleRun> {
  const { init, invocations, ...rest } = await runBundle(file, [event], env, options)
  const outcome =
    'initError' in init ? { initError: init.initError } : 'thrown' in invocations[0]! ? { thrown: invocations[0].thrown } : { result: invocations[0]!.result }
  return { outcome, ...rest }
}

/** The function a bundle file belongs to: `<outdir>/<name>/index.js`. */
function nameOf(file: string): string {
  return file.split(/[\\/]/).at(-2) ?? 'unknown'
}
