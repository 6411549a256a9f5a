import type { Context, EventBridgeEvent } from 'aws-lambda'
import { createMetricsFromEnv } from '../src/observe/dispatch-metrics.js'
import { DISPATCH_SCRIPT } from '../src/script/scripts.js'
import { createInvocationDeadline } from '../src/triggers/deadline.js'
import { assertEventBridgeEvent } from '../src/triggers/event-shape.js'
import { initLambda } from '../src/triggers/lambda-init.js'
import { createTriggerFromEnv } from '../src/triggers/trigger.js'

await initLambda(import.meta.url, process.env, [DISPATCH_SCRIPT])
const deadline = createInvocationDeadline()
const metrics = createMetricsFromEnv(process.env)
const trigger = createTriggerFromEnv(process.env, { deadline: deadline.get, metrics })

/** A scheduled rule's `input` arrives as the event itself; anything else is an EventBridge envelope. */
export type EventBridgeInput = EventBridgeEvent<string, unknown> | Record<string, unknown> | null

// A schedule's input is any JSON text, `null` included, so the envelope test must not assume an object.
const isEnvelope = (event: EventBridgeInput): event is EventBridgeEvent<string, unknown> =>
  typeof event === 'object' && event !== null && typeof event['detail-type'] === 'string' && 'detail' in event && typeof event.id === 'string'

/**
 * Dispatches the request in `detail` (any detail-type, e.g. `mesa.dispatch`), with the event's id as the
 * default dispatch id, or a schedule's `input` as is. Invalid input throws, so Lambda's asynchronous
 * invocation retries it and then sends it to the function's on-failure destination. One EMF line per invocation.
 */
export const handler = (event: EventBridgeInput, context: Context) =>
  deadline.run(context.getRemainingTimeInMillis(), () =>
    metrics.observe(context.functionName, async () => {
      assertEventBridgeEvent(event)
      return isEnvelope(event)
        ? trigger.dispatch(event.detail, { defaultId: event.id, requestId: context.awsRequestId })
        : trigger.dispatch(event, { requestId: context.awsRequestId })
    }),
  )
