import { type AddressInfo, createServer, type Socket } from 'node:net'

/** A raw TCP server on a loopback port, for endpoints that misbehave below HTTP: silent, or hanging up. */
export interface TcpServer {
  /** http://127.0.0.1:PORT, as an endpoint URL. */
  readonly url: string
  readonly port: number
  close(): Promise<void>
}

/** Listens on a free loopback port and hands each accepted socket to `onSocket`; close() destroys them all. */
export async function listenTcp(onSocket: (socket: Socket) => void): Promise<TcpServer> {
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
    socket.on('error', () => undefined)
    onSocket(socket)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}
