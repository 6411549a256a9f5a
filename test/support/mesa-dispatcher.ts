import type { EventEmitter } from 'node:events'
import { createRequire } from 'node:module'
import { release } from './mesa-server'

// Loaded through require for the same reason as in mesa-server.ts: the CJS default import is the exports object.
const mesa = createRequire(import.meta.url)('@cryb/mesa') as typeof import('@cryb/mesa')

/** Mesa's own Dispatcher class, unchanged: the reference implementation. */
export const Dispatcher = mesa.Dispatcher
export type Dispatcher = InstanceType<typeof mesa.Dispatcher>
/** Mesa's Message class (`new Message(op, d, t?, options?)`). */
export const Message = mesa.Message
export type Message = InstanceType<typeof mesa.Message>
/** Mesa's DispatchEvent class (`new DispatchEvent('DISCONNECT_CLIENT')`, sent as op 5); the package root exports it too. */
export const DispatchEvent = mesa.DispatchEvent
export type DispatchEvent = InstanceType<typeof mesa.DispatchEvent>

/** Mesa's Dispatcher config: `{ namespace?, sync?: { enabled } }`. */
export type MesaDispatcherConfig = ConstructorParameters<typeof mesa.Dispatcher>[1]

/** The private ioredis (v4) clients inside a Dispatcher, and the one method used to watch them. */
interface TrackedRedis {
  status: string
  quit(): Promise<unknown>
  disconnect(): void
  sendCommand(command: { promise: Promise<unknown> }, stream?: unknown): Promise<unknown>
}

/** Mesa's Dispatcher plus what its fire-and-forget API lacks: a way to wait for its Redis work, and a close. */
export interface MesaDispatcher {
  dispatcher: Dispatcher
  /** Errors from any Redis command the Dispatcher issued (it never awaits them, so nobody else sees them). */
  errors: Error[]
  /** Resolves once every Redis command the Dispatcher has issued, and every command those led to, has been answered. */
  settle(): Promise<void>
  /** Waits for `settle()`, then quits both of its ioredis clients. */
  close(): Promise<void>
}

/** Creates Mesa's own Dispatcher on `redisUrl`, with its Redis traffic tracked so tests and benchmarks can await it. */
export function createMesaDispatcher(redisUrl: string, config?: MesaDispatcherConfig): MesaDispatcher {
  const dispatcher = new mesa.Dispatcher(redisUrl, config)
  const internals = dispatcher as unknown as { redis: TrackedRedis; publisher: TrackedRedis }
  const clients = [internals.redis, internals.publisher]
  const pending = new Set<Promise<unknown>>()
  const errors: Error[] = []

  // Every ioredis command, queued offline or written at once, passes through sendCommand with its promise.
  for (const client of clients) {
    const send = client.sendCommand.bind(client)
    client.sendCommand = (command, stream) => {
      if (!pending.has(command.promise)) {
        pending.add(command.promise)
        command.promise.then(
          () => pending.delete(command.promise),
          (error: Error) => {
            errors.push(error)
            pending.delete(command.promise)
          },
        )
      }
      return send(command, stream)
    }
    // ioredis only logs unhandled connection errors; keep them with the command errors.
    const emitter = client as unknown as EventEmitter
    emitter.on('error', (error: Error) => errors.push(error))
  }

  const settle = async () => {
    for (;;) {
      if (pending.size > 0) {
        await Promise.allSettled([...pending])
        continue
      }
      // Mesa issues its next command in the continuation of the previous one; a macrotask lets those run first.
      await new Promise((resolve) => setImmediate(resolve))
      if (pending.size === 0) return
    }
  }
  let closing: Promise<void> | undefined
  return {
    dispatcher,
    errors,
    settle,
    close: () =>
      (closing ??= (async () => {
        await settle()
        await Promise.all(clients.map(release))
      })()),
  }
}
