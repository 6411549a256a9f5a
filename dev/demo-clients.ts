import { Redis } from 'ioredis'
import WebSocket from 'ws'
import { mesaKey, release } from './mesa-server'
import { untilMember } from './online-set'

/** Where a demo client stands; `going offline` lasts until Mesa has removed it from the online set. */
export type ClientStatus = 'connecting' | 'online' | 'going offline' | 'offline'

/** One frame a demo client received, exactly as Mesa sent it. */
export interface ReceivedFrame {
  /** 1 for the client's first frame since the dev stack started, counting across reconnections. */
  n: number
  at: string
  raw: string
  frame: unknown
}

/** What the console shows of one demo client. */
export interface DemoClientView {
  id: string
  status: ClientStatus
  /** Why it is offline when Mesa closed the socket, e.g. after DISCONNECT_CLIENT. */
  detail?: string
  /** The latest frames, oldest first. */
  frames: ReceivedFrame[]
}

/** Real `ws` clients of the demo Mesa server that the console can take offline and bring back. */
export interface DemoClients {
  view(): DemoClientView[]
  /** Reconnects and authenticates, or closes the socket; resolves once Mesa's online set agrees. */
  setOnline(id: string, online: boolean): Promise<DemoClientView>
  close(): Promise<void>
}

export interface DemoClientsOptions {
  mesaUrl: string
  /** The Redis that Mesa keeps its online set in, to wait for its SADD and SREM. */
  redisUrl: string
  namespace?: string
  ids: string[]
  onStatus(view: Omit<DemoClientView, 'frames'>): void
  onFrame(id: string, frame: ReceivedFrame): void
  /** @default 10000 */
  timeoutMs?: number
}

/** The most frames kept per client; the page only needs the recent past. */
const MAX_FRAMES = 200

interface State {
  id: string
  status: ClientStatus
  detail?: string
  frames: ReceivedFrame[]
  received: number
  socket?: WebSocket
  /** Operations on one client run one at a time, so a quick offline-online-offline stays in order. */
  queue: Promise<unknown>
}

/** Connects every demo client (token = id, op 2) and resolves once all are online. */
export async function startDemoClients(options: DemoClientsOptions): Promise<DemoClients> {
  const timeoutMs = options.timeoutMs ?? 10_000
  const onlineSet = mesaKey('connected_clients', options.namespace)
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 1 })
  redis.on('error', () => undefined)
  const states = new Map<string, State>(options.ids.map((id) => [id, { id, status: 'offline', frames: [], received: 0, queue: Promise.resolve() }]))

  const viewOf = (state: State): DemoClientView => ({ id: state.id, status: state.status, detail: state.detail, frames: [...state.frames] })
  const setStatus = (state: State, status: ClientStatus, detail?: string) => {
    state.status = status
    state.detail = detail
    options.onStatus({ id: state.id, status, detail })
  }

  const untilOnline = (id: string, expected: boolean, moot?: () => boolean) => untilMember(redis, onlineSet, id, expected, timeoutMs, moot)

  const connect = async (state: State) => {
    setStatus(state, 'connecting')
    const socket = new WebSocket(options.mesaUrl)
    state.socket = socket
    // ws throws on an 'error' event nobody hears; a failed connect also ends in 'close', handled below.
    socket.on('error', () => undefined)
    const authenticated = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${state.id} got no auth ack within ${timeoutMs} ms`)), timeoutMs)
      socket.on('message', (data) => {
        const raw = String(data)
        const frame = parseFrame(raw)
        record(state, raw, frame)
        if (frame.op === 10) socket.send(JSON.stringify({ op: 2, d: { token: state.id } }))
        if (frame.op === 22) {
          clearTimeout(timer)
          resolve()
        }
      })
      socket.once('close', (code) => {
        clearTimeout(timer)
        reject(new Error(`Mesa closed ${state.id}'s socket (code ${code}) before it authenticated`))
        // A close we did not ask for (DISCONNECT_CLIENT, Mesa stopping) leaves the client offline until told otherwise.
        if (state.socket === socket) {
          state.socket = undefined
          setStatus(state, 'offline', `closed by Mesa (code ${code})`)
        }
      })
    })
    try {
      await authenticated
      // Mesa acks before its SADD lands; a dispatch must already see the client online when we say it is.
      await untilOnline(state.id, true, () => state.socket !== socket)
    } catch (error) {
      socket.terminate()
      if (state.socket === socket) {
        state.socket = undefined
        setStatus(state, 'offline', (error as Error).message)
      }
      throw error
    }
    if (state.socket === socket) setStatus(state, 'online')
  }

  const disconnect = async (state: State) => {
    const socket = state.socket
    state.socket = undefined
    setStatus(state, 'going offline')
    if (socket) await closeSocket(socket)
    // Until Mesa's SREM lands a dispatch would still be published to nobody instead of stored.
    await untilOnline(state.id, false)
    setStatus(state, 'offline')
  }

  const record = (state: State, raw: string, frame: unknown) => {
    const entry = { n: ++state.received, at: new Date().toISOString(), raw, frame }
    state.frames.push(entry)
    if (state.frames.length > MAX_FRAMES) state.frames.shift()
    options.onFrame(state.id, entry)
  }

  const enqueue = <T>(state: State, operation: () => Promise<T>): Promise<T> => {
    const next = state.queue.then(operation, operation)
    state.queue = next.catch(() => undefined)
    return next
  }

  const clients: DemoClients = {
    view: () => [...states.values()].map(viewOf),
    async setOnline(id, online) {
      const state = states.get(id)
      if (!state) throw new Error(`no demo client ${JSON.stringify(id)}`)
      await enqueue(state, async () => {
        if (online && !state.socket) await connect(state)
        else if (!online && (state.socket || state.status !== 'offline')) await disconnect(state)
      })
      return viewOf(state)
    },
    async close() {
      const sockets = [...states.values()].flatMap((state) => {
        const socket = state.socket
        state.socket = undefined
        return socket ? [socket] : []
      })
      await Promise.all(sockets.map(closeSocket))
      await release(redis)
    },
  }

  try {
    await Promise.all(options.ids.map((id) => clients.setOnline(id, true)))
  } catch (error) {
    await clients.close()
    throw error
  }
  return clients
}

/** Closes a socket normally (code 1000) and resolves once it is closed, whatever errors come first. */
function closeSocket(socket: WebSocket): Promise<void> {
  if (socket.readyState === WebSocket.CLOSED) return Promise.resolve()
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  socket.close(1000)
  return closed
}

/** A frame as JSON; Mesa only sends JSON, but a bad frame must not take the dev process down. */
function parseFrame(raw: string): { op?: unknown } {
  try {
    return JSON.parse(raw) as { op?: unknown }
  } catch {
    return {}
  }
}
