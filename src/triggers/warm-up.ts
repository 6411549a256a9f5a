import { type Env, readDispatcherEnv, readString } from '../config.js'
import { ConfigError } from '../errors.js'
import { WARM_UP_TIMEOUT_MS } from '../limits.js'
import { describeError } from '../observe/error-fields.js'
import { createLogger, type Logger } from '../observe/logger.js'
import type { LuaScript } from '../script/lua-script.js'
import { loadRestTransport } from '../transport/rest.js'
import { loadScripts } from '../transport/runner.js'

/** What warmUp() needs besides the env. */
export interface WarmUpOptions {
  /** @default a JSON-lines logger on console.log */
  logger?: Logger
  /** The longest the init waits for it. @default WARM_UP_TIMEOUT_MS (1000) */
  timeoutMs?: number
}

/**
 * Whether Lambda runs this init for provisioned concurrency, ahead of any request, where work that readies the first
 * one costs no request its time (AWS_LAMBDA_INITIALIZATION_TYPE, see warmUp).
 */
export function isProvisionedInit(env: Env): boolean {
  return readString(env, 'AWS_LAMBDA_INITIALIZATION_TYPE') === 'provisioned-concurrency'
}

/**
 * Readies a Lambda function's first dispatch during its init: it opens the connection to the REST endpoint (and
 * loads what the transport sends with, rest.ts's loadRestTransport) and makes sure Redis holds `scripts` (SCRIPT
 * EXISTS, then SCRIPT LOAD only for those missing), so that the first dispatch is one EVALSHA on an open connection,
 * as a warm one is.
 *
 * Lambda says in AWS_LAMBDA_INITIALIZATION_TYPE why it runs the init
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime). A
 * provisioned (or other ahead-of-time) init has no request waiting on it, so the warm-up is awaited there, for at
 * most `timeoutMs`. An on-demand init has one waiting, which a round trip of its own would only delay, and a warm-up
 * left to run beside the first dispatch opens a second connection and takes CPU from it (a 256 MB function has a
 * sixth of a core; the benchmark measured it, case 9): there only the transport is loaded, which the first dispatch
 * would pay anyway, and which an init that Lambda runs ahead of a request (a proactive init, reported as on-demand)
 * then saves it. Without the variable (not on Lambda) nothing is done.
 *
 * It never throws: a bad setting is left for the function's own init to report, and a Redis that is slow, down or
 * refusing is logged once, after which the first dispatch behaves as if there had been no warm-up.
 */
export async function warmUp(env: Env, scripts: readonly LuaScript[], options: WarmUpOptions = {}): Promise<void> {
  const initType = readString(env, 'AWS_LAMBDA_INITIALIZATION_TYPE')
  if (initType === undefined) return
  if (initType === 'on-demand') {
    loadRestTransport()
    return
  }
  let connection: ReturnType<typeof readDispatcherEnv>['connection']
  try {
    connection = readDispatcherEnv(env).connection
  } catch (error) {
    if (error instanceof ConfigError) return
    throw error
  }
  const logger = options.logger ?? createLogger()
  const started = Date.now()
  const until = started + (options.timeoutMs ?? WARM_UP_TIMEOUT_MS)
  // One attempt per request, all of them over by `until`: a retry would only hold up the init for the same answer.
  await loadScripts({ ...connection, retries: 0, deadline: () => until }, scripts).catch((error: unknown) =>
    logger.warn('warm-up failed: the first dispatch connects and loads the script itself', {
      initType,
      ...describeError(error),
      durationMs: Date.now() - started,
    }),
  )
}
