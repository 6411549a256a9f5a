import { afterAll, beforeAll } from 'vitest'
import { type ServedEndpoint, serveEndpoint } from './dispatch-endpoint'
import { type MesaServer, startMesaServer } from './mesa-server'
import type { Stack } from './stack'

/** A fresh namespace of the stack with a sync-on endpoint and a real Mesa 1.5.8 server in it. */
export interface MesaBehindEndpoint {
  namespace: string
  endpoint: ServedEndpoint
  mesa: MesaServer
}

/**
 * Serves the HTTP app (serveEndpoint) and starts a Mesa server in a fresh namespace of `stack` before the file's
 * tests, and stops both after them; read the fields inside tests, once they are set.
 */
export function useMesaBehindEndpoint(stack: Stack): MesaBehindEndpoint {
  const parts = {} as MesaBehindEndpoint
  beforeAll(async () => {
    parts.namespace = stack.freshNamespace()
    parts.endpoint = await serveEndpoint(stack.dispatcher({ namespace: parts.namespace, sync: { enabled: true } }))
    parts.mesa = await startMesaServer({ redisUrl: stack.redis.url, namespace: parts.namespace })
  }, 60_000)
  afterAll(async () => {
    await parts.endpoint?.close()
    await parts.mesa?.close()
  })
  return parts
}
