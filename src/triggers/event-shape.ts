import { UnexpectedEventError } from '../errors.js'

// The shapes of the events this service's Lambda functions are triggered by, recognised by type guards and looked
// up in one table, as Hono's aws-lambda adapter picks an event processor and Powertools' batch processors check
// their records: a function handed another trigger's event says what it got and which function takes it, where it
// would otherwise fail deep inside with `Cannot read properties of undefined`.
// https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html, https://docs.aws.amazon.com/eventbridge/latest/ref/overiew-event-structure.html

type JsonObject = Record<string, unknown>

const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value)

/** An SQS event: `Records[]`, as the sqs function takes it. */
export const isSqsEvent = (event: unknown): event is { Records: unknown[] } => isObject(event) && Array.isArray(event.Records)

/** An API Gateway REST (1.0), HTTP API (2.0) or Function URL event. */
export const isHttpEvent = (event: unknown): boolean =>
  isObject(event) && (typeof event.httpMethod === 'string' || (isObject(event.requestContext) && isObject(event.requestContext.http)))

/** An EventBridge envelope, a rule's own event or a schedule's without `input`: `detail-type`, `id` and `detail`. */
export const isEventBridgeEvent = (event: unknown): event is { 'detail-type': string; id: string; detail: unknown } =>
  isObject(event) && typeof event['detail-type'] === 'string' && typeof event.id === 'string' && 'detail' in event

/** A scheduled rule's event without `input`: what the cleanup schedule sends. */
export const isScheduledEvent = (event: unknown): boolean => isObject(event) && event['detail-type'] === 'Scheduled Event'

/** The triggers of this service's functions, most specific first: what an event is, and which function takes it. */
const SOURCES: ReadonlyArray<{ is: (event: unknown) => boolean; what: (event: JsonObject) => string; takenBy: string }> = [
  { is: isSqsEvent, what: () => 'an SQS event (Records[])', takenBy: 'sqs' },
  { is: isHttpEvent, what: () => 'an HTTP event (API Gateway or a Function URL)', takenBy: 'http' },
  { is: isScheduledEvent, what: () => 'a Scheduled Event', takenBy: 'cleanup' },
  { is: isEventBridgeEvent, what: (event) => `an EventBridge event (detail-type ${JSON.stringify(event['detail-type'])})`, takenBy: 'eventbridge' },
]

/** What an event looks like, for a message: its source when it is one of ours, else its type or its keys (never values). */
export function describeEvent(event: unknown): string {
  if (event === null || event === undefined) return String(event)
  if (Array.isArray(event)) return 'an array'
  if (!isObject(event)) return `a ${typeof event}`
  const source = SOURCES.find((each) => each.is(event))
  if (source) return `${source.what(event)}, which the ${source.takenBy} function takes`
  const keys = Object.keys(event)
  return keys.length === 0 ? 'an empty object' : `an object with ${keys.slice(0, 5).join(', ')}${keys.length > 5 ? ', …' : ''}`
}

/** The fields every SQS record carries and the sqs function reads. */
const SQS_RECORD_FIELDS = ['messageId', 'body', 'eventSourceARN'] as const

/** The sqs function's check: the problem with an event it cannot take, or undefined. */
function sqsProblem(event: unknown): string | undefined {
  if (!isSqsEvent(event)) return `got no Records[]: is this an SQS event? It is ${describeEvent(event)}`
  for (const [index, record] of event.Records.entries()) {
    const missing = SQS_RECORD_FIELDS.find((field) => !isObject(record) || typeof record[field] !== 'string')
    if (missing) return `got Records[${index}] without ${missing}: is this an SQS event? Each record has ${SQS_RECORD_FIELDS.join(', ')}`
  }
  return undefined
}

/**
 * The eventbridge function's check. Any JSON is a schedule's input, so only another trigger's event, or an envelope
 * without its detail, is refused.
 */
function eventBridgeProblem(event: unknown): string | undefined {
  if (isSqsEvent(event) || isHttpEvent(event)) return `got ${describeEvent(event)}: is this an EventBridge event or a schedule's input?`
  if (isObject(event) && typeof event['detail-type'] === 'string' && !isEventBridgeEvent(event)) {
    return 'got an EventBridge event without its id or detail: is this an EventBridge event? It needs detail-type, id and detail'
  }
  return undefined
}

/** The cleanup function's check. It runs on its schedule and reads nothing of its event: only another trigger's event is a mistake to name. */
function cleanupProblem(event: unknown): string | undefined {
  if (isScheduledEvent(event) || !SOURCES.some((source) => source.is(event))) return undefined
  return `got ${describeEvent(event)}: it runs on its schedule and takes a Scheduled Event (or {})`
}

/** Each function's check: the problem with an event it cannot take, or undefined. */
const EXPECTED = { sqs: sqsProblem, eventbridge: eventBridgeProblem, cleanup: cleanupProblem }

/** Throws an UnexpectedEventError saying what the function expected and what it got, before it reads the event. */
export function assertEventShape(fn: keyof typeof EXPECTED, event: unknown): void {
  throwProblem(fn, EXPECTED[fn](event))
}

// One assertion per function, each with its own check alone, so that a bundle carries only its function's (a
// lookup by name in EXPECTED would keep all three in each).

/** assertEventShape('sqs', event), for the sqs function. */
export const assertSqsEvent = (event: unknown): void => throwProblem('sqs', sqsProblem(event))

/** assertEventShape('eventbridge', event), for the eventbridge function. */
export const assertEventBridgeEvent = (event: unknown): void => throwProblem('eventbridge', eventBridgeProblem(event))

/** assertEventShape('cleanup', event), for the cleanup function. */
export const assertCleanupEvent = (event: unknown): void => throwProblem('cleanup', cleanupProblem(event))

function throwProblem(fn: string, problem: string | undefined): void {
  if (problem !== undefined) throw new UnexpectedEventError(`the ${fn} function ${problem}`)
}
