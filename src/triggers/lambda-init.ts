import type { Env } from '../config.js'
import type { LuaScript } from '../script/lua-script.js'
import { mapStacksLazily } from './mapped-stacks.js'
import { warmUp } from './warm-up.js'

/**
 * What each Lambda function's entry does first, with top-level await, during Lambda's init: it maps the stacks of
 * its bundle (at `bundleUrl`, the entry's `import.meta.url`) to src/ at the first error (mapped-stacks.ts), then
 * readies its first dispatch by opening the connection to Redis and loading `scripts` (warm-up.ts).
 */
export async function initLambda(bundleUrl: string, env: Env, scripts: readonly LuaScript[]): Promise<void> {
  mapStacksLazily(bundleUrl)
  await warmUp(env, scripts)
}
