import { type AddressInfo, createServer } from 'node:net'

/** A loopback port that nothing listens on right now: for servers to bind, or for connections to be refused. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo
      probe.close(() => resolve(port))
    })
  })
}
