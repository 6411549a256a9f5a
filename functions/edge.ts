import type { Env } from '../src/config.js'
import { type App, createAppFromEnv } from '../src/http/app.js'

// One app per env object: Workers hand the same bindings object to every request of an isolate.
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
