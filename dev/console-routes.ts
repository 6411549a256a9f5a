import { readFileSync } from 'node:fs'
import type { DemoClients } from './demo-clients'
import type { LiveFeed } from './live-feed'
import type { FetchHandler } from './serve-fetch'

/** What the console page is told about the stack it drives. */
export interface ConsoleConfig {
  /** The real dispatch endpoint, e.g. http://127.0.0.1:8787/dispatch. */
  endpoint: string
  mesa: string
  namespace: string
  sync: boolean
  /** The dev bearer token, which the page's form sends as production callers would. */
  token: string
}

/** Everything the console routes stand in front of. */
export interface ConsoleRoutesOptions {
  config: ConsoleConfig
  clients: DemoClients
  feed: LiveFeed
  /** The real fetch handler: everything that is not the console goes here, `/dispatch` and `/health` included. */
  endpoint: FetchHandler
}

const PAGE = readFileSync(new URL('./console/index.html', import.meta.url), 'utf8')
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]'])
const CLIENT_ACTION = /^\/__dev\/clients\/([^/]+)\/(online|offline)$/

/**
 * The dev server's handler: `/` serves the console page and `/__dev/*` its JSON and event-stream endpoints;
 * every other path goes to the real endpoint untouched, so the page dispatches through production auth.
 */
export function createConsoleRoutes(options: ConsoleRoutesOptions): FetchHandler {
  const { config, clients, feed, endpoint } = options
  return async (request) => {
    const url = new URL(request.url)
    const path = url.pathname
    if (path !== '/' && path !== '/index.html' && !path.startsWith('/__dev/')) return endpoint(request)
    // The page hands out the dispatch token, so answer only loopback names (no DNS rebinding) and, for
    // state changes, only the page's own origin (no cross-site form posts).
    if (!LOOPBACK_HOSTS.has(url.hostname)) return json(403, { ok: false, error: 'the dev console only answers loopback host names' })
    const origin = request.headers.get('origin')
    if (request.method === 'POST' && origin !== null && origin !== url.origin) return json(403, { ok: false, error: 'cross-origin request refused' })

    const action = CLIENT_ACTION.exec(path)
    if (action && request.method === 'POST') {
      const id = decodeComponent(action[1]!)
      if (id === undefined || !clients.view().some((client) => client.id === id)) return json(404, { ok: false, error: `no demo client ${action[1]}` })
      try {
        return json(200, { ok: true, client: await clients.setOnline(id, action[2] === 'online') })
      } catch (error) {
        return json(500, { ok: false, error: (error as Error).message })
      }
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') return json(405, { ok: false, error: 'use GET' }, { allow: 'GET, HEAD' })
    switch (path) {
      case '/':
      case '/index.html':
        return new Response(PAGE, { headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' } })
      case '/__dev/config':
        return json(200, config)
      case '/__dev/clients':
        return json(200, { clients: clients.view() })
      case '/__dev/events':
        return feed.respond(request.signal, () => ({ clients: clients.view() }))
      default:
        return json(404, { ok: false, error: 'no such dev route' })
    }
  }
}

function decodeComponent(text: string): string | undefined {
  try {
    return decodeURIComponent(text)
  } catch {
    return undefined
  }
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
  })
}
