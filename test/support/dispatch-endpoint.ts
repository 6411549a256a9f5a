import { type FetchServer, serveFetch } from '../../dev/serve-fetch'
import type { ApiKey } from '../../src/http/api-keys'
import { createApp } from '../../src/http/app'
import type { Dispatcher } from '../../src/index'
import { silentLogger } from '../../src/observe/logger'

/** The bearer token the served endpoint accepts. */
export const ENDPOINT_TOKEN = 'endpoint-test-dispatch-token'
/** The signing secret the served endpoint accepts, of the key `default`. */
export const ENDPOINT_SECRET = 'endpoint-test-signing-secret'
/** A second key the served endpoint accepts: it signs as `hooks`, and may only dispatch. */
export const HOOKS_KEY: ApiKey = { name: 'hooks', signingSecret: 'endpoint-test-hooks-secret', scopes: ['dispatch'] }

/** A served endpoint, and how many HTTP requests have reached it. */
export interface ServedEndpoint extends FetchServer {
  readonly requests: number
}

/**
 * The HTTP app in front of `dispatcher`, served over real HTTP on a loopback port and accepting `ENDPOINT_TOKEN`
 * and signatures made with `ENDPOINT_SECRET` (the key `default`), and signatures of HOOKS_KEY: what a deployed
 * endpoint is to its callers.
 */
export async function serveEndpoint(dispatcher: Dispatcher): Promise<ServedEndpoint> {
  const app = createApp({ dispatcher, auth: { token: ENDPOINT_TOKEN, signingSecret: ENDPOINT_SECRET }, keys: [HOOKS_KEY], logger: silentLogger })
  let requests = 0
  const server = await serveFetch((request) => {
    requests++
    return app.fetch(request)
  })
  return {
    url: server.url,
    port: server.port,
    close: server.close,
    get requests() {
      return requests
    },
  }
}
