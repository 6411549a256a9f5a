import { connect, type Socket } from 'node:net'
import { listenTcp } from './tcp-server'

/** A TCP proxy on a loopback port that delays every byte each way, and counts the connections it accepted. */
export interface DelayProxy {
  /** http://127.0.0.1:PORT, as an endpoint URL in front of the target. */
  readonly url: string
  readonly port: number
  /** Connections accepted since start (or the last reset): each one a TCP (and, on a real network, TLS) handshake. */
  readonly accepted: number
  /** When each of those was accepted, in epoch milliseconds with a fraction (`performance.timeOrigin + performance.now()`). */
  readonly acceptedAt: readonly number[]
  resetCount(): void
  close(): Promise<void>
}

/**
 * Forwards each accepted connection to `target` (a loopback `host:port`), holding every chunk `delayMs` in each
 * direction, so that one exchange costs a round trip of 2 × delayMs, as across a network. A connection's first
 * bytes to the target wait one more round trip, for the handshake a real connection costs before it can carry a
 * request (TCP's; TLS would add one or two more, which is not modelled). With `delayMs` 0 it only counts.
 */
export async function startDelayProxy(target: { host: string; port: number }, delayMs: number): Promise<DelayProxy> {
  let acceptedAt: number[] = []
  const upstreams = new Set<Socket>()
  const server = await listenTcp((client) => {
    acceptedAt.push(performance.timeOrigin + performance.now())
    const upstream = connect(target.port, target.host)
    // Chunks go on as they came, each at its time: Nagle's algorithm would hold a small one back for an ACK.
    client.setNoDelay(true)
    upstream.setNoDelay(true)
    upstreams.add(upstream)
    upstream.once('close', () => upstreams.delete(upstream))
    upstream.on('error', () => client.destroy())
    client.once('close', () => upstream.destroy())
    const connected = Date.now() + 2 * delayMs
    relay(client, upstream, delayMs, connected)
    relay(upstream, client, delayMs, 0)
  })
  return {
    url: server.url,
    port: server.port,
    get accepted() {
      return acceptedAt.length
    },
    get acceptedAt() {
      return acceptedAt
    },
    resetCount() {
      acceptedAt = []
    },
    async close() {
      for (const upstream of upstreams) upstream.destroy()
      await server.close()
    },
  }
}

/** Copies `from` to `to`, each chunk no sooner than `delayMs` after it arrived nor before `notBefore`, in order. */
function relay(from: Socket, to: Socket, delayMs: number, notBefore: number): void {
  const queue: Array<{ at: number; send: () => void }> = []
  let timer: NodeJS.Timeout | undefined
  const pump = () => {
    timer = undefined
    while (queue.length > 0 && queue[0]!.at <= Date.now()) queue.shift()!.send()
    if (queue.length > 0) timer = setTimeout(pump, queue[0]!.at - Date.now())
  }
  // One timer per direction, for the oldest chunk, so chunks leave in the order they came.
  const later = (send: () => void) => {
    queue.push({ at: Math.max(Date.now() + delayMs, notBefore), send })
    if (!timer) timer = setTimeout(pump, queue[0]!.at - Date.now())
  }
  from.on('data', (chunk: Buffer) => later(() => to.destroyed || to.write(chunk)))
  from.once('end', () => later(() => to.destroyed || to.end()))
}
