import type { DispatchRequestBody } from '../client/types.js'
import { Dispatcher } from '../core/dispatcher.js'
import { createRequestParser } from '../core/request.js'
import type { DispatchResult } from '../core/types.js'
import { silentLogger } from '../observe/logger.js'
import { createTrigger } from '../triggers/trigger.js'
import { hintEndpointFailure, hintRestFailure } from './hints.js'
import { createEndpointClient, type Transport } from './transport-args.js'

/**
 * Sends one dispatch over the chosen transport: through the endpoint with `createDispatchClient`, or straight to
 * Redis with a Dispatcher. Both take the same body, validated by the endpoint's own parser on the Redis path, so
 * a bad request fails with the same field name whichever way it goes.
 */
export async function sendDispatch(transport: Transport, body: DispatchRequestBody): Promise<DispatchResult> {
  if (transport.kind === 'endpoint') {
    const client = createEndpointClient(transport)
    return client.dispatch(body).catch((error: unknown) => {
      throw hintEndpointFailure(error)
    })
  }
  const { url, token, timeoutMs } = transport
  const dispatcher = new Dispatcher({ url, token, timeoutMs }, { namespace: transport.namespace, sync: { enabled: transport.sync } })
  try {
    // The same parse-then-dispatch path as SQS and EventBridge; the CLI prints its own output, so no log lines.
    return await createTrigger(dispatcher, createRequestParser(), silentLogger).dispatch(body)
  } catch (error) {
    throw hintRestFailure(error)
  } finally {
    await dispatcher.close()
  }
}
