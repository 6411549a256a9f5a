import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'

/** A fetch-shaped handler: the edge bundle's `fetch`, or the app's. */
export type FetchHandler = (request: Request) => Promise<Response>

/** A Node HTTP server in front of a fetch handler. */
export interface FetchServer {
  /** http://HOST:PORT */
  readonly url: string
  readonly port: number
  close(): Promise<void>
}

/**
 * Serves a fetch handler over Node's HTTP server, for the local dev stack and tests: the same handler that the
 * edge bundle exports, reachable with curl, a browser or the CLI. Local-only; it never enters a bundle.
 */
export async function serveFetch(handler: FetchHandler, options: { port?: number; host?: string } = {}): Promise<FetchServer> {
  const host = options.host ?? '127.0.0.1'
  const server = createServer((req, res) => {
    forward(handler, req, res, host).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' })
      res.end(`dev server failure: ${(error as Error).message}`)
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

async function forward(handler: FetchHandler, req: IncomingMessage, res: ServerResponse, host: string): Promise<void> {
  const headers = new Headers()
  for (const [name, value] of Object.entries(req.headers)) {
    if (Array.isArray(value)) for (const each of value) headers.append(name, each)
    else if (value !== undefined) headers.set(name, value)
  }
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD'
  // As in Workers and Deno, request.signal aborts when the client goes away, so a handler streaming an
  // endless response (the dev console's event stream) learns to stop.
  const gone = new AbortController()
  res.once('close', () => gone.abort())
  const request = new Request(`http://${req.headers.host ?? host}${req.url ?? '/'}`, {
    method: req.method,
    headers,
    signal: gone.signal,
    ...(hasBody ? { body: Readable.toWeb(req) as ReadableStream, duplex: 'half' } : {}),
  } as RequestInit)
  const response = await handler(request)
  const out: Record<string, string> = {}
  for (const [name, value] of response.headers) out[name] = value
  res.writeHead(response.status, out)
  if (response.body === null || req.method === 'HEAD') return void res.end()
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    // Leaving the loop cancels the body stream, which tells its producer nobody is listening any more.
    if (res.destroyed) break
    res.write(chunk)
  }
  res.end()
}
