import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'

/** An HTTP proxy on a loopback port in front of a target, which can lose answers the target gave. */
export interface AnswerDroppingProxy {
  /** http://127.0.0.1:PORT, as an endpoint URL in front of the target. */
  readonly url: string
  /** Requests forwarded to the target, answered or not. */
  readonly forwarded: number
  /** Loses the answers to the next `count` requests: each is forwarded, answered by the target, then its connection cut. */
  dropNext(count: number): void
  close(): Promise<void>
}

/**
 * Forwards every request to `target` (a base URL) and relays the answer, but for requests `dropNext` marked: those
 * reach the target, which applies them, and the proxy then destroys the caller's socket instead of answering, as a
 * load balancer that loses a connection after forwarding would. The caller sees a connection closed unanswered.
 */
export async function startAnswerDroppingProxy(target: string): Promise<AnswerDroppingProxy> {
  let forwarded = 0
  let drops = 0
  const server = createServer(async (req, res) => {
    try {
      const body = await readBody(req)
      const headers = Object.fromEntries(
        Object.entries(req.headers).flatMap(([name, value]) => (name === 'host' || value === undefined ? [] : [[name, String(value)]])),
      )
      forwarded++
      const answer = await fetch(`${target}${req.url}`, { method: req.method, headers, ...(body.length > 0 ? { body: new Uint8Array(body) } : {}) })
      const text = await answer.text()
      if (drops > 0) {
        drops--
        req.socket.destroy()
        return
      }
      // Only what a caller reads: the framing headers are this hop's own.
      const relayed = ['content-type', 'retry-after'].flatMap((name) => (answer.headers.has(name) ? [[name, answer.headers.get(name)!]] : []))
      res.writeHead(answer.status, Object.fromEntries(relayed)).end(text)
    } catch {
      // The target could not be reached: the caller sees its connection closed, as behind a real proxy.
      req.socket.destroy()
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    get forwarded() {
      return forwarded
    },
    dropNext(count) {
      drops = count
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}
