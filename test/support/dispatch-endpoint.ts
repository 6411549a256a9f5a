import { type FetchServer, serveFetch } from '../../dev/serve-fetch'
import { createApp } from '../../src/http/app'
import type { Dispatcher } from '../../src/index'
import { silentLogger } from '../../src/observe/logger'

/** The bearer token the served endpoint accepts. */
export const ENDPOINT_TOKEN = 'endpoint-test-dispatch-token'
/** The signing secret the served endpoint accepts. */
export const ENDPOINT_SECRET = 'endpoint-test-signing-secret'

/** A served endpoint, and how many HTTP requests have reached it. */
export interface ServedEndpoint extends FetchServer {
  readonly requests: number
}

/**
 * The HTTP app in front of `dispatcher`, served over real HTTP on a loopback port and accepting both
 * `ENDPOINT_TOKEN` and signatures made with `ENDPOINT_SECRET`: what a deployed endpoint is to its callers.
 */
export async function serveEndpoint(dispatcher: Dispatcher): Promise<ServedEndpoint> {
  const app = createApp({ dispatcher, auth: { token: ENDPOINT_TOKEN, signingSecret: ENDPOINT_SECRET }, logger: silentLogger })
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
