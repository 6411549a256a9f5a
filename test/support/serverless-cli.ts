import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runCommand } from './processes'

/** The project root. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const OSLS = join(ROOT, 'node_modules', 'osls', 'bin', 'serverless.js')
const GUARD = join(ROOT, 'test', 'support', 'offline-guard.cjs')

/** Settings the functions read; never inherited from the test's own environment. */
const CONFIG_VARIABLE =
  /^(AWS_|UPSTASH_|MESA_|DISPATCH_|MAX_BODY_BYTES$|MAX_BATCH$|MAX_RECIPIENTS$|DEDUPE_TTL_SECONDS$|REDIS_TIMEOUT_MS$|REDIS_RETRIES$|NODE_OPTIONS$)/

/** A throwaway copy of the service as a fresh clone has it after `npm ci`: sources, no dist/. */
export interface ServiceCopy {
  dir: string
  close(): Promise<void>
}

/**
 * What a fresh clone holds that `serverless` reads: serverless.yml, its plugins (which build dist/ with
 * esbuild.config.mjs from the sources, package.json's `imports` and tsconfig.json), and the sample events.
 */
const SERVICE_FILES = [
  'serverless.yml',
  'scripts/serverless',
  'scripts/esbuild',
  'esbuild.config.mjs',
  'package.json',
  'tsconfig.json',
  'src',
  'functions',
  'events',
]

/**
 * Copies the service to a temp dir, with node_modules linked rather than copied (esbuild and osls resolve
 * through the link), and WITHOUT dist/: every `serverless` command that needs a bundle builds it there itself.
 * The work tree's dist/ and .serverless/ are never touched (other test files build and package at the same time).
 */
export async function copyService(): Promise<ServiceCopy> {
  if (!existsSync(OSLS)) {
    throw new Error(`the serverless CLI is missing (${OSLS}). It comes from the osls devDependency: run \`npm ci\`, or \`npm install -D --save-exact osls\`.`)
  }
  const dir = mkdtempSync(join(tmpdir(), 'mesa-sls-'))
  try {
    for (const path of SERVICE_FILES) cpSync(join(ROOT, path), join(dir, path), { recursive: true })
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir')
    return { dir, close: async () => rmSync(dir, { recursive: true, force: true }) }
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
 * offline guard preloaded, so that any attempt to reach the network fails and is reported. Each run has a HOME of
 * its own (osls caches files under ~/.serverless), so that runs in one copy may go in parallel.
 */
export async function runServerless(dir: string, args: string[], options: ServerlessOptions = {}): Promise<ServerlessRun> {
  const home = mkdtempSync(join(dir, 'home-'))
  const guardLog = join(home, 'network-attempts.log')
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !CONFIG_VARIABLE.test(name)))
  const env: Record<string, string | undefined> = {
    ...inherited,
    HOME: home,
    AWS_CONFIG_FILE: join(home, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'no-aws-credentials'),
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
