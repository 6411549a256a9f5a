import { ConfigError, ValidationError } from '../errors.js'
import { DEFAULT_MAX_BATCH, MAX_BATCH_LIMIT, MAX_TYPE_LENGTH } from '../limits.js'
import type { DispatchInput } from './dispatch-input.js'
import { type DispatchAction, type Dispatchable, DispatchEvent, Message, type MessageOptions } from './message.js'
import type { DispatchOptions, Recipient } from './types.js'

/**
 * One dispatch as the wire carried it, from any trigger: HTTP, SQS, EventBridge or a schedule. Its message or
 * event is built and checked here; its recipients and id are handed on as they came, and the Dispatcher checks
 * them (checkDispatch), as it does for every caller: each wire input is checked once.
 */
export interface DispatchRequest {
  event: Dispatchable
  /** Undefined means every client (`['*']`). */
  recipients?: unknown
  excluding?: unknown
  /** The idempotency key the body carried, if any. */
  id?: unknown
}

/** A request body holds one dispatch, or a batch of them under `dispatches`. */
export type ParsedBody = { batch: false; requests: [DispatchRequest] } | { batch: true; requests: DispatchRequest[] }

/** Limits applied while parsing, so that oversized input fails with the field named. */
export interface RequestLimits {
  /** At most MAX_BATCH_LIMIT (1000), so that a batch item's `:<index>` id suffix fits. @default DEFAULT_MAX_BATCH (100) */
  maxBatch?: number
}

/** Parses untrusted JSON values into dispatch requests, throwing a ValidationError that names the field. */
export interface RequestParser {
  /** An HTTP body: one dispatch, or `{ "dispatches": [...] }` of at most `maxBatch`. */
  parseBody(body: unknown): ParsedBody
  /** Exactly one dispatch, as an SQS record body or an EventBridge detail carries. */
  parseOne(value: unknown): DispatchRequest
}

/**
 * Builds the parser with its limits, once per app or function. It is written out rather than declared with a
 * schema library: the schema is small and fixed, and the edge bundle's budget (100 KiB, 80 of them taken by
 * @upstash/redis) has no room for one. Checks run in the order the fields are listed, limits before items so
 * that a huge array fails fast, and the first problem found is the one reported.
 */
export function createRequestParser(limits: RequestLimits = {}): RequestParser {
  const maxBatch = limits.maxBatch ?? DEFAULT_MAX_BATCH
  if (maxBatch > MAX_BATCH_LIMIT) throw new ConfigError('maxBatch', `must be at most ${MAX_BATCH_LIMIT}`)
  return {
    parseOne: (value) => parseDispatch(value, ''),
    parseBody(body) {
      const input = objectAt(body, '', 'must be a JSON object')
      if (!('dispatches' in input)) return { batch: false, requests: [parseDispatch(input, '')] }
      rejectUnknown(input, BATCH_FIELDS, '')
      const list = input.dispatches
      if (!Array.isArray(list)) throw new ValidationError('dispatches', 'must be an array of dispatches')
      if (list.length === 0) throw new ValidationError('dispatches', 'must not be empty')
      if (list.length > maxBatch) throw new ValidationError('dispatches', `must hold at most ${maxBatch} dispatches`)
      return { batch: true, requests: list.map((each, index) => parseDispatch(each, `dispatches[${index}]`)) }
    },
  }
}

const BATCH_FIELDS = new Set(['dispatches'])
const DISPATCH_FIELDS = new Set(['message', 'event', 'recipients', 'excluding', 'id'])
const MESSAGE_FIELDS = new Set(['op', 'd', 't', 'o'])
const OPTION_FIELDS = new Set(['sync'])

function parseDispatch(value: unknown, path: string): DispatchRequest {
  const input = objectAt(value, path, 'must be a JSON object')
  const at = (field: string) => (path ? `${path}.${field}` : field)
  const message = 'message' in input ? parseMessage(input.message, at('message')) : undefined
  const action = 'event' in input ? parseEvent(input.event, at('event')) : undefined
  rejectUnknown(input, DISPATCH_FIELDS, path)
  if ((message === undefined) === (action === undefined)) throw new ValidationError(path || 'body', 'needs exactly one of message or event')
  const request: DispatchRequest = { event: message ?? action! }
  // JSON has no undefined: a field that is present is handed on whatever it holds, null included, to be refused.
  for (const field of HANDED_ON) if (field in input) request[field] = input[field]
  return request
}

/** The fields the Dispatcher checks, as it does for a library call. */
const HANDED_ON = ['recipients', 'excluding', 'id'] as const

/**
 * A request as the Dispatcher takes it, with its own id or else `fallback`'s. The types are asserted, not
 * checked: the Dispatcher checks these values (checkDispatch) for every caller, and names the field it refuses.
 */
export function toDispatchInput(request: DispatchRequest, fallback: DispatchOptions = {}): DispatchInput {
  const { event, recipients, excluding, id } = request
  return {
    event,
    ...(recipients === undefined ? {} : { recipients: recipients as Recipient[] }),
    ...(excluding === undefined ? {} : { excluding: excluding as Recipient[] }),
    options: id === undefined ? fallback : { id: id as string },
  }
}

/** Checks the wire shape here; the Message constructor checks op, t and o.sync, the same rules as for library calls. */
function parseMessage(value: unknown, path: string): Message {
  const input = objectAt(value, path, 'must be an object')
  if (!('d' in input)) throw new ValidationError(`${path}.d`, 'is required')
  if (typeof input.t === 'string' && input.t.length > MAX_TYPE_LENGTH) {
    throw new ValidationError(`${path}.t`, `must be at most ${MAX_TYPE_LENGTH} characters`)
  }
  if ('o' in input) rejectUnknown(objectAt(input.o, `${path}.o`, 'must be an object'), OPTION_FIELDS, `${path}.o`)
  rejectUnknown(input, MESSAGE_FIELDS, path)
  try {
    return new Message('op' in input ? (input.op as number) : 0, input.d, input.t as string | undefined, input.o as MessageOptions | undefined)
  } catch (error) {
    // Message names its fields `message.*`; a batch item's live under `dispatches[i].message`.
    throw error instanceof ValidationError ? error.relocated(path + error.field.slice('message'.length)) : error
  }
}

function parseEvent(value: unknown, path: string): DispatchEvent {
  try {
    return new DispatchEvent(value as DispatchAction)
  } catch (error) {
    throw error instanceof ValidationError ? error.relocated(path) : error
  }
}

function objectAt(value: unknown, path: string, problem: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ValidationError(path || 'body', problem)
  return value as Record<string, unknown>
}

function rejectUnknown(input: Record<string, unknown>, known: ReadonlySet<string>, path: string): void {
  for (const key of Object.keys(input)) {
    if (!known.has(key)) throw new ValidationError(path ? `${path}.${key}` : key, 'is not a known field')
  }
}

/** Parses JSON text, naming `body` in the error when it is not JSON. */
export function parseJson(text: string): unknown {
  if (text.trim() === '') throw new ValidationError('body', 'must be a JSON object, got an empty body')
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new ValidationError('body', 'is not valid JSON', { cause: error })
  }
}
