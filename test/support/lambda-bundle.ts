import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
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
const OUTCOME = '@@outcome '

// What Lambda's Node runtime does with an ESM handler file: import it once (init), then call the handler with the
// event and a context. The outcome is printed on a marked line after whatever the handler logged.
const SCRIPT = `
const [file, name, eventJson] = process.argv.slice(1)
const report = (outcome) => process.stdout.write('\\n${OUTCOME}' + JSON.stringify(outcome) + '\\n')
const shape = (error) => ({ name: error?.name, message: error?.message })
let handler
try {
  ;({ handler } = await import(file))
} catch (error) {
  report({ initError: shape(error) })
  process.exit(0)
}
const deadline = Date.now() + 30000
const context = {
  functionName: 'mesa-dispatch-test-' + name,
  awsRequestId: crypto.randomUUID(),
  getRemainingTimeInMillis: () => deadline - Date.now(),
}
try {
  report({ result: await handler(JSON.parse(eventJson), context) })
} catch (error) {
  report({ thrown: shape(error) })
}
`

/** Options for one invocation. */
export interface InvokeOptions {
  /** Resolve `localhost` to ::1 and 127.0.0.1, as many hosts do (test/support/dual-stack-localhost.cjs). */
  dualStackLocalhost?: boolean
}

/**
 * Invokes a built Lambda bundle's handler as Lambda's Node runtime would, in a fresh `node` process with nothing
 * but `env` (and PATH) in its environment and the offline guard preloaded, letting only loopback through.
 */
export async function invokeBundle(file: string, event: unknown, env: Record<string, string>, options: InvokeOptions = {}): Promise<BundleRun> {
  const guardLog = `${file}.network-${process.pid}-${Date.now()}.log`
  const preloads = [GUARD, ...(options.dualStackLocalhost ? [DUAL_STACK] : [])]
  const run = await runCommand(process.execPath, ['--input-type=module', '-e', SCRIPT, pathToFileURL(file).href, nameOf(file), JSON.stringify(event)], {
    env: {
      PATH: process.env.PATH,
      NODE_OPTIONS: preloads.map((preload) => `--require ${JSON.stringify(preload)}`).join(' '),
      OFFLINE_GUARD_LOG: guardLog,
      OFFLINE_GUARD_ALLOW: 'loopback',
      ...env,
    },
    timeoutMs: 30_000,
  })
  const marked = run.stdout.split('\n').find((line) => line.startsWith(OUTCOME))
  if (run.code !== 0 || !marked) throw new Error(`the ${nameOf(file)} bundle did not finish (exit ${run.code})\n${run.stdout}\n${run.stderr}`)
  const lines = run.stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
  const networkAttempts = existsSync(guardLog) ? readFileSync(guardLog, 'utf8').split('\n').filter(Boolean) : []
  return { outcome: JSON.parse(marked.slice(OUTCOME.length)), lines, stdout: run.stdout, stderr: run.stderr, networkAttempts }
}

/** The function a bundle file belongs to: `<outdir>/<name>/index.js`. */
function nameOf(file: string): string {
  return file.split(/[\\/]/).at(-2) ?? 'unknown'
}
