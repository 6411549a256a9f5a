import { type Env, readDispatcherEnv } from '../config.js'
import { type CleanupOptions, type CleanupResult, cleanupBacklogs } from '../core/backlog-cleanup.js'
import { createRunner, readSettings } from '../core/dispatcher-setup.js'
import { createMesaKeys } from '../core/keys.js'
import { readAtStart } from './read-at-start.js'

/** Removes the offline backlogs past their age, in steps, as `Dispatcher.cleanupBacklogs` does. */
export type Cleanup = (options?: CleanupOptions) => Promise<CleanupResult>

/**
 * Builds the scheduled cleanup from an env object, as `Dispatcher.fromEnv(env).cleanupBacklogs` would run it, from
 * the same parts (the settings, Mesa's keys, the script runner) without the Dispatcher itself: the cleanup function
 * dispatches nothing, so its bundle carries none of the dispatching code nor its Lua. Wrong settings throw one
 * ConfigError naming every variable, with no stack.
 */
export function createCleanupFromEnv(env: Env, options: { deadline?: () => number | undefined } = {}): Cleanup {
  const { connection, config } = readAtStart(() => readDispatcherEnv(env))
  const { limits } = readSettings(config)
  const keys = createMesaKeys(config.namespace)
  const runner = createRunner(options.deadline ? { ...connection, deadline: options.deadline } : connection)
  return (cleanupOptions) => cleanupBacklogs(runner, keys, limits, cleanupOptions)
}
