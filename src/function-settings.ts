import { type Env, readDispatcherEnv, readMetricsEnv, readSettings, type SettingReader } from './config.js'
import { ConfigError } from './errors.js'
import { readApiKeys, readAppEnv } from './http/app-env.js'

// What each deployed Lambda function reads at start, by its name in serverless.yml. `serverless package` and
// `deploy` run exactly these readers on each function's resolved environment (scripts/serverless/check-settings.mjs
// loads this file), so a stage that a function would refuse at start is refused before it ships.

/** Refuses an http function that would refuse every request: a deploy needs one key at least. */
function requireCredentials(env: Env): void {
  if (readApiKeys(env).length === 0) {
    throw new ConfigError('DISPATCH_KEYS, DISPATCH_TOKEN or DISPATCH_SIGNING_SECRET', 'must be set: without a key, the http function refuses every request')
  }
}

/** The Dispatcher's settings and the metrics', which the sqs, eventbridge and cleanup functions read. */
const triggerSettings = (env: Env) => readSettings(env, { dispatcher: readDispatcherEnv, metrics: readMetricsEnv })

/** Each function's readers; a function not named here reads nothing at start. */
export const FUNCTION_SETTINGS: Readonly<Record<string, SettingReader<unknown>>> = {
  http: (env) => readSettings(env, { app: readAppEnv, credentials: requireCredentials, metrics: readMetricsEnv }),
  sqs: triggerSettings,
  eventbridge: triggerSettings,
  cleanup: triggerSettings,
}

/** Reads `env` as the named function reads it at start, and returns the one ConfigError naming every problem, or undefined. */
export function checkFunctionSettings(name: string, env: Env): ConfigError | undefined {
  try {
    FUNCTION_SETTINGS[name]?.(env)
    return undefined
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw error
  }
}
