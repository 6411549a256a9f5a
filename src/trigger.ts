import { parseJson } from './body'
import { readDispatcherEnv, type Env } from './config'
import { Dispatcher } from './dispatcher'
import { createRequestParser, type RequestParser } from './request'
import type { DispatchResult } from './result'

/** Dispatches from event sources that hand over one request at a time: SQS records, EventBridge, schedules. */
export interface Trigger {
  readonly dispatcher: Dispatcher
  /**
   * Validates one dispatch request (a JSON value, or JSON text) and sends it. `defaultId` is the source's own
   * stable id for the event (an SQS messageId, an EventBridge id), used when the request carries none, so a
   * redelivery of the same event is applied once.
   */
  dispatch(payload: unknown, defaultId?: string): Promise<DispatchResult>
}

/** Builds the Trigger from an env object; a bad setting throws a ConfigError naming the variable. */
export function createTriggerFromEnv(env: Env): Trigger {
  const { connection, config } = readDispatcherEnv(env)
  return createTrigger(new Dispatcher(connection, config), createRequestParser({ maxRecipients: config.maxRecipients }))
}

/** Builds a Trigger around an existing Dispatcher and parser. */
export function createTrigger(dispatcher: Dispatcher, parser: RequestParser): Trigger {
  return {
    dispatcher,
    async dispatch(payload, defaultId) {
      const request = parser.parseOne(typeof payload === 'string' ? parseJson(payload) : payload)
      const id = request.id ?? defaultId
      return dispatcher.dispatch(request.event, request.recipients, request.excluding, id === undefined ? {} : { id })
    },
  }
}
