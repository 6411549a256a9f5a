import { checkDispatch } from '../../../src/core/dispatch-input'
import { createRequestParser, type DispatchRequest, type ParsedBody, toDispatchInput } from '../../../src/core/request'
import { ValidationError } from '../../../src/index'
import { DEFAULT_MAX_RECIPIENTS, MAX_IDEMPOTENCY_KEY_LENGTH } from '../../../src/limits'
import type { Door } from './doors'
import type { HttpPlan } from './http-arbitraries'
import type { Bytes } from './http-bodies'
import { MAX_BATCH, MAX_BODY_BYTES } from './settings'

// The oracle: what the request parser and then the Dispatcher's own check say, with the same limits as the
// deployed functions.

const httpParser = createRequestParser({ maxBatch: MAX_BATCH })
const triggerParser = createRequestParser()
/** Decodes as the app does: fatal on invalid UTF-8, and skipping a leading BOM. */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

/** Runs the Dispatcher's check on what the parser handed on, which is where recipients and ids are refused. */
function checked<T>(parsed: T, requests: (parsed: T) => DispatchRequest[]): T {
  for (const request of requests(parsed)) checkDispatch(toDispatchInput(request), DEFAULT_MAX_RECIPIENTS)
  return parsed
}

/** Runs a parser step, turning a ValidationError into undefined; anything else thrown is a bug in the parser. */
function validated<T>(parse: () => T): T | undefined {
  try {
    return parse()
  } catch (error) {
    if (error instanceof ValidationError) return undefined
    throw error
  }
}

/** The parsed HTTP body, or undefined when it is too large, not UTF-8 JSON, or fails the schema. */
function parseHttpBody(body: Uint8Array): ParsedBody | undefined {
  if (body.length > MAX_BODY_BYTES) return undefined
  let value: unknown
  try {
    const text = strictUtf8.decode(body)
    if (text.trim() === '') return undefined
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  return validated(() => checked(httpParser.parseBody(value), (body) => body.requests))
}

/** The one request in an SQS body or EventBridge payload (a JSON value, or JSON text as the Trigger documents). */
export function parseTriggerPayload(payload: unknown): DispatchRequest | undefined {
  if (typeof payload === 'string') {
    try {
      payload = JSON.parse(payload)
    } catch {
      return undefined
    }
  }
  return validated(() => checked(triggerParser.parseOne(payload), (request) => [request]))
}

/**
 * What the oracle expects of one HTTP request through one door: `reused ids` is a batch naming one id for two items,
 * whose later ones are a conflict (409) unless they are the same dispatch; either way nothing is a 5xx.
 */
export type HttpVerdict = 'accepted' | 'refused' | 'another route' | 'reused ids'

/** A signature header as sent, and whether the app should accept it. */
export interface SignedHeader {
  value: string
  valid: boolean
}

/**
 * Predicts the outcome of a plan sent through a door from the plan and the request parser alone, given the body
 * the door sends and the signature header as signed for it.
 */
export function httpVerdict(plan: HttpPlan, door: Door, body: Bytes | undefined, signed: SignedHeader | undefined): HttpVerdict {
  const pathname = new URL(`https://dispatch.example.com${plan.path}`).pathname
  if (plan.method !== 'POST' || pathname !== '/dispatch') return 'another route'
  // A bearer header that reaches the app decides alone; else a signature header does; neither is a refusal.
  const reaches = (value: string | undefined) => value !== undefined && door.seen(value) !== undefined
  // A signature covers the Idempotency-Key, an absent one signed as empty: one the door changes on the way no longer
  // matches, one it drops matches only if it was empty.
  const keyIntact = plan.idempotencyKey === undefined || (door.seen(plan.idempotencyKey) ?? '') === plan.idempotencyKey
  const authenticated = reaches(plan.authorization?.value) ? plan.authorization!.valid : reaches(signed?.value) ? signed!.valid && keyIntact : false
  const parsed = parseHttpBody(body ?? new Uint8Array())
  if (!authenticated || !parsed) return 'refused'
  // The header is checked whether or not body ids override it, with one limit for single and batch requests.
  const key = plan.idempotencyKey === undefined ? undefined : door.seen(plan.idempotencyKey)
  const badKey = key !== undefined && (key === '' || key.length > MAX_IDEMPOTENCY_KEY_LENGTH)
  if (badKey) return 'refused'
  // An item's id is its own, else the header's with its index; without either it has none (or the signature's).
  const ids = parsed.requests.flatMap((request, index) =>
    typeof request.id === 'string' ? [request.id] : key === undefined ? [] : [parsed.batch ? `${key}:${index}` : key],
  )
  return new Set(ids).size < ids.length ? 'reused ids' : 'accepted'
}
