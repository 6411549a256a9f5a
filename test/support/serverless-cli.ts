import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type BuiltBundle, buildBundles } from '../../esbuild.config.mjs'
import { runCommand } from './processes'

/** The project root. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const OSLS = join(ROOT, 'node_modules', 'osls', 'bin', 'serverless.js')
const GUARD = join(ROOT, 'test', 'support', 'offline-guard.cjs')

/** Settings the functions read; never inherited from the test's own environment. */
const CONFIG_VARIABLE =
  /^(AWS_|UPSTASH_|MESA_|DISPATCH_|MAX_BODY_BYTES$|MAX_BATCH$|MAX_RECIPIENTS$|DEDUPE_TTL_SECONDS$|REDIS_TIMEOUT_MS$|REDIS_RETRIES$|NODE_OPTIONS$)/

/** A throwaway copy of the service: serverless.yml, events/ and freshly built bundles in its dist/. */
export interface ServiceCopy {
  dir: string
  built: BuiltBundle[]
  close(): Promise<void>
}

/**
 * Copies serverless.yml and events/ to a temp dir and builds the bundles into its dist/, so that `serverless`
 * runs on exactly what `npm run package` would ship, without touching the work tree's dist/ or .serverless/
 * (other test files build and package at the same time).
 */
export async function copyService(): Promise<ServiceCopy> {
  if (!existsSync(OSLS)) {
    throw new Error(`the serverless CLI is missing (${OSLS}). It comes from the osls devDependency: run \`npm ci\`, or \`npm install -D --save-exact osls\`.`)
  }
  const dir = mkdtempSync(join(tmpdir(), 'mesa-sls-'))
  try {
    copyFileSync(join(ROOT, 'serverless.yml'), join(dir, 'serverless.yml'))
    cpSync(join(ROOT, 'events'), join(dir, 'events'), { recursive: true })
    mkdirSync(join(dir, 'home'))
    const built = await buildBundles({ outdir: join(dir, 'dist') })
    return { dir, built, close: async () => rmSync(dir, { recursive: true, force: true }) }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
}

export interface ServerlessRun {
  code: number | null
  stdout: string
  stderr: string
  /** Every connection or DNS lookup the offline guard refused, in any Node process the CLI ran. */
  networkAttempts: string[]
}

export interface ServerlessOptions {
  /** Variables for the CLI (and so for `${env:…}` in serverless.yml and for invoke local's handler). */
  env?: Record<string, string>
  /** Let connections to loopback through (a local Redis gateway); everything else is always refused. */
  allowLoopback?: boolean
  timeoutMs?: number
}

/**
 * Runs the osls `serverless` CLI in `dir` with no AWS credentials, no AWS config files, IMDS disabled, and the
 * offline guard preloaded, so that any attempt to reach the network fails and is reported.
 */
export async function runServerless(dir: string, args: string[], options: ServerlessOptions = {}): Promise<ServerlessRun> {
  const guardLog = join(dir, `network-attempts-${process.pid}-${Date.now()}.log`)
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !CONFIG_VARIABLE.test(name)))
  const env: Record<string, string | undefined> = {
    ...inherited,
    HOME: join(dir, 'home'),
    AWS_CONFIG_FILE: join(dir, 'home', 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'home', 'no-aws-credentials'),
    // Without credentials the AWS SDK's default chain would next ask the EC2 metadata service; never let it.
    AWS_EC2_METADATA_DISABLED: 'true',
    NODE_OPTIONS: `--require ${JSON.stringify(GUARD)}`,
    OFFLINE_GUARD_LOG: guardLog,
    OFFLINE_GUARD_ALLOW: options.allowLoopback ? 'loopback' : 'none',
    ...options.env,
  }
  const timeoutMs = options.timeoutMs ?? 60_000
  const run = await runCommand(process.execPath, [OSLS, ...args], { cwd: dir, env, timeoutMs })
  const networkAttempts = existsSync(guardLog) ? readFileSync(guardLog, 'utf8').split('\n').filter(Boolean) : []
  return { ...run, networkAttempts }
}

/** Explains a failed run in an assertion message. */
export function describeRun(run: ServerlessRun): string {
  return `exit ${run.code}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}\n--- refused network use\n${run.networkAttempts.join('\n') || '(none)'}`
}

/** The JSON value `serverless invoke local` prints last (the handler's result), after any log lines. */
export function invokeResult(stdout: string): unknown {
  const starts = [...stdout.matchAll(/^[{[]$/gm)]
  const last = starts[starts.length - 1]
  if (!last) throw new Error(`no JSON result in the output:\n${stdout}`)
  return JSON.parse(stdout.slice(last.index))
}
