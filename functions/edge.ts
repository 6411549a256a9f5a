import type { Env } from '../src/config.js'
import { type App, createAppFromEnv } from '../src/http/app.js'

// One app per env object: Workers hand the same bindings object to every request of an isolate.
// Unlike the Lambda entries (src/triggers/lambda-init.ts), nothing is sent at global scope, where Workers forbid
// I/O: an isolate's first dispatch sends its EVALSHA on whatever connection the runtime's own fetch pool has, and
// falls back to EVAL once if Redis lacks the script. There is no fetch start-up to pay ahead of it, the runtime's
// fetch being native, nor an init to hide a round trip in: a warm-up in the first request would only delay it.
const apps = new WeakMap<object, App>()
const processEnv: Env = (globalThis as { process?: { env?: Env } }).process?.env ?? {}

/**
 * The edge entry for Cloudflare Workers, Vercel Edge, Deno and Bun. Config comes from the `env` bindings when
 * the runtime passes them, else from `process.env` where it exists.
 */
export default {
  fetch(request: Request, env?: Env): Promise<Response> {
    const source = env && Object.keys(env).length > 0 ? env : processEnv
    let app = apps.get(source)
    if (!app) {
      app = createAppFromEnv(source)
      apps.set(source, app)
    }
    return app.fetch(request)
  },
}
