import { Redis } from 'ioredis'
import WebSocket from 'ws'
import { untilMember } from '../../dev/online-set'
import { createArrivals } from './arrivals'
import { mesaKey, mesaServerAt, release } from './mesa-server'

type Frame = Record<string, unknown>

/** A real WebSocket client authenticated on a Mesa server, recording every frame it receives after op 22. */
export interface MesaClient {
  id: string | number
  /** Every frame after the auth ack, parsed, in arrival order. */
  messages: Frame[]
  /** The same frames as the exact strings the server sent. */
  raw: string[]
  /** The frames Mesa sent before any dispatch: op 10 (hello) and op 22 (auth ack), unparsed. */
  handshake: string[]
  /** Resolves with the first n messages, or rejects listing what did arrive. */
  waitForMessages(n: number, timeoutMs?: number): Promise<Frame[]>
  /** Resolves if no new message arrives within ms; rejects listing the extra frames otherwise. */
  expectNoMoreMessages(ms: number): Promise<void>
  /** Resolves when the socket closes, whoever closed it. */
  closed: Promise<{ code: number }>
  /** Closes the socket and waits until Mesa has removed the id from its online set. */
  close(): Promise<void>
}

export interface MesaClientOptions {
  /** Sent in op 2 only when given; Mesa treats a missing value as true. */
  shouldSync?: boolean
  /** Where to check the online set; defaults to what `startMesaServer` recorded for this URL. */
  redisUrl?: string
  namespace?: string
  timeoutMs?: number
}

/** Connects and authenticates with `token`, resolving once the server lists the client as online in Redis. */
export async function connectMesaClient(url: string, token: string | number, options: MesaClientOptions = {}): Promise<MesaClient> {
  const server = options.redisUrl ? { redisUrl: options.redisUrl, namespace: options.namespace } : mesaServerAt(url)
  if (!server) throw new Error(`no Mesa server started by startMesaServer at ${url}; pass options.redisUrl`)
  const onlineSet = mesaKey('connected_clients', server.namespace)
  const timeoutMs = options.timeoutMs ?? 5_000

  const socket = new WebSocket(url)
  const arrivals = createArrivals<Frame>()
  const messages = arrivals.items
  const raw: string[] = []
  const handshake: string[] = []
  let authenticated!: () => void
  const authAck = new Promise<void>((resolve) => (authenticated = resolve))

  const closed = new Promise<{ code: number }>((resolve) => socket.once('close', (code) => resolve({ code })))
  socket.on('message', (data) => {
    const text = String(data)
    const frame = JSON.parse(text) as Frame
    if (handshake.length === 0 && frame.op === 10) {
      handshake.push(text)
      const d: Record<string, unknown> = { token }
      if (options.shouldSync !== undefined) d.shouldSync = options.shouldSync
      socket.send(JSON.stringify({ op: 2, d }))
    } else if (handshake.length === 1 && frame.op === 22) {
      handshake.push(text)
      authenticated()
    } else {
      raw.push(text)
      arrivals.push(frame)
    }
  })

  let fail!: (error: Error) => void
  const failed = new Promise<never>((_, reject) => (fail = reject))
  // A listener must stay attached for the socket's whole life: ws throws on an unheard 'error' event.
  socket.on('error', (error) => fail(error))
  void closed.then(({ code }) => fail(new Error(`Mesa closed the socket (code ${code}) before ${JSON.stringify(token)} was online`)))
  const timer = setTimeout(() => fail(new Error(`no auth ack for ${JSON.stringify(token)} within ${timeoutMs} ms`)), timeoutMs)
  try {
    await Promise.race([authAck, failed])
    // Mesa sends op 22 before its SADD reaches Redis, so wait for the set itself: a dispatcher must see us online.
    await Promise.race([untilMemberAt(server.redisUrl, onlineSet, token, true, timeoutMs), failed])
  } catch (error) {
    socket.terminate()
    throw error
  } finally {
    clearTimeout(timer)
  }

  const describe = () => `${raw.length} frame(s) for ${JSON.stringify(token)}: ${raw.join(' ') || '(none)'}`
  let closing: Promise<void> | undefined
  return {
    id: token,
    messages,
    raw,
    handshake,
    closed,
    waitForMessages: (n, waitMs = timeoutMs) => arrivals.waitFor(n, waitMs, describe),
    expectNoMoreMessages: async (ms) => {
      const before = raw.length
      await new Promise((resolve) => setTimeout(resolve, ms))
      if (raw.length > before) throw new Error(`expected no more messages after ${before}, got ${describe()}`)
    },
    close: () =>
      (closing ??= (async () => {
        if (socket.readyState !== WebSocket.CLOSED) socket.close(1000)
        await closed
        // Mesa only SREMs truthy ids (`if (this.id && …)`), so 0 and '' stay "online" forever; nothing to wait for.
        if (token) await untilMemberAt(server.redisUrl, onlineSet, token, false, timeoutMs)
      })()),
  }
}

/** Waits on Mesa's online set with a short-lived connection of its own. */
async function untilMemberAt(redisUrl: string, set: string, id: string | number, expected: boolean, timeoutMs: number): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 })
  try {
    await untilMember(redis, set, id, expected, timeoutMs)
  } finally {
    await release(redis)
  }
}
