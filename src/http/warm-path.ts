import type { Requester, UpstashRequest, UpstashResponse } from '@upstash/redis'
import type { Env } from '../config.js'
import { QuestionDispatcher } from '../core/dispatcher.js'
import { createEmfMetrics, type InvocationMetrics } from '../observe/dispatch-metrics.js'
import { describeError } from '../observe/error-fields.js'
import { createLogger, type Logger } from '../observe/logger.js'
import { createRedisOn } from '../transport/rest.js'
import { type App, createApp } from './app.js'
import { readAppEnv } from './app-env.js'

/** A request path that sends nothing: an app and metrics like the function's, and a dispatch request the app accepts. */
export interface WarmPath {
  /** An app on the function's settings, with a key of its own, whose Dispatcher's script call is answered in the process. */
  readonly app: App
  /** Metrics that count as the function's do and write their line nowhere. */
  readonly metrics: InvocationMetrics
  /** The dispatch request, `POST /dispatch`: its headers (the app's own key) and its JSON body. */
  readonly request: { readonly headers: Record<string, string>; readonly body: string }
  /** The script calls the app made, each answered in the process: none reached Redis. */
  readonly calls: () => number
}

/** What the dispatch script answers for one dispatch to every client (`['*']`) that reached no server: `n0:0:0:w`. */
const WILDCARD_REPLY = 'n0:0:0:w'

/**
 * A second request path of the HTTP function, on the same code as its own, for a provisioned init to run once
 * (functions/http.ts): V8 compiles a function at its first call and its first runs are its slowest, so the first
 * request after such an init would otherwise pay for the first run of the Hono adapter, the app, the Dispatcher,
 * the batcher, @upstash/redis's command, the logger and the metrics, which the benchmark measured at 1.4-3.4 ms over
 * a warm dispatch (case 9, R = 2 ms). Nothing of it leaves the process: its Dispatcher's client answers the script
 * call itself, its logger and its metrics (the function's own code, so that it runs warm too) write their lines
 * nowhere, and its key is a random one that no request can know. None without valid settings, which the function's
 * own app reports.
 */
export function createWarmPath(env: Env): WarmPath | undefined {
  let settings: ReturnType<typeof readAppEnv>
  try {
    settings = readAppEnv(env)
  } catch {
    return undefined
  }
  let calls = 0
  const requester: Requester = {
    request: async <TResult>(_request: UpstashRequest): Promise<UpstashResponse<TResult>> => {
      calls++
      return { result: WILDCARD_REPLY as TResult }
    },
  }
  const token = `warm-up-${crypto.randomUUID()}`
  return {
    app: createApp({ dispatcher: new QuestionDispatcher(createRedisOn(requester), settings.config), auth: { token }, logger: createLogger({}, () => {}) }),
    metrics: createEmfMetrics({ sink: () => {} }),
    request: {
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ message: { op: 0, d: {}, t: 'WARM_UP' } }),
    },
    calls: () => calls,
  }
}

/**
 * Builds the warm path on `env` and hands it to `run`, which sends its request through the function's handler. It
 * never throws, since an init that threw would leave the function unable to serve: a failure, which would be a bug
 * of ours, is logged once and the first request simply runs the code for the first time.
 */
export async function runWarmPath(env: Env, run: (warm: WarmPath) => Promise<unknown>, logger: Logger = createLogger()): Promise<void> {
  try {
    const warm = createWarmPath(env)
    if (warm) await run(warm)
  } catch (error) {
    logger.warn('warm-up of the request path failed: the first request runs it for the first time', describeError(error))
  }
}
