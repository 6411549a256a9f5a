import { afterAll, beforeAll } from 'vitest'
import type { FetchServer } from '../../../dev/serve-fetch'
import type { DispatchResult } from '../../../src/index'
import { useCleanup } from '../../support/cleanup'
import { ENDPOINT_TOKEN, serveEndpoint } from '../../support/dispatch-endpoint'
import { connectMesaClient, type MesaClient } from '../../support/mesa-client'
import { type MesaServer, startMesaServer } from '../../support/mesa-server'
import { GATEWAY_TOKEN, useStack } from '../../support/stack'

/** The real parts a consumer app dispatches through, and a way to watch what reaches Mesa's clients. */
export interface ConsumerStack {
  /**
   * What the fixture apps read, naming `recipient`: the gateway's REST URL and token (`CONSUMER_REST_*`), the
   * redis:// URL (`CONSUMER_REDIS_URL`), the namespace, and the HTTP endpoint with its token (`CONSUMER_ENDPOINT*`).
   */
  env(recipient: string): Record<string, string>
  /** A real WebSocket client logged in to the Mesa server with a fresh id, closed after the test. */
  connect(): Promise<MesaClient>
}

/**
 * Per file: a redis-server, the Upstash gateway in front of it, the HTTP endpoint in front of a Dispatcher (sync on)
 * and a Mesa 1.5.8 server, all in one fresh namespace.
 */
export function useConsumerStack(): ConsumerStack {
  const stack = useStack()
  const open = useCleanup()
  let namespace: string
  let endpoint: FetchServer
  let mesa: MesaServer
  let clients = 0
  beforeAll(async () => {
    namespace = stack.freshNamespace()
    endpoint = await serveEndpoint(stack.dispatcher({ namespace, sync: { enabled: true } }))
    mesa = await startMesaServer({ redisUrl: stack.redis.url, namespace })
  })
  afterAll(async () => {
    await endpoint.close()
    await mesa.close()
  })
  return {
    env: (recipient) => ({
      CONSUMER_REST_URL: stack.gateway.url,
      CONSUMER_REST_TOKEN: GATEWAY_TOKEN,
      CONSUMER_REDIS_URL: stack.redis.url,
      CONSUMER_NAMESPACE: namespace,
      CONSUMER_ENDPOINT: endpoint.url,
      CONSUMER_ENDPOINT_TOKEN: ENDPOINT_TOKEN,
      CONSUMER_RECIPIENT: recipient,
    }),
    connect: async () => open(await connectMesaClient(mesa.url, `consumer-${process.pid}-${++clients}`)),
  }
}

/** What a dispatch to one online client answers with sync on: published to it, nothing stored. */
export function deliveredTo(recipient: string | number): DispatchResult {
  const id = String(recipient)
  return { servers: 1, recipients: [id], online: [id], offline: [], unstored: [], stored: 0, dropped: 0, duplicate: false, excludingIgnored: false }
}
