import { MAX_BATCH_LIMIT } from '../config.js'
import { MAX_DISPATCH_ID_LENGTH } from './dispatcher.js'
import { ConfigError, ValidationError } from '../errors.js'
import { DispatchEvent, Message, type DispatchAction, type Dispatchable, type MessageOptions, type Recipient } from './message.js'
import { assertRecipients, assertWellFormed, DEFAULT_MAX_RECIPIENTS } from './recipients.js'

/** The longest message type accepted over the wire. @default 256 */
export const MAX_TYPE_LENGTH = 256
/** The most dispatches one batch request may carry. @default 100 */
export const DEFAULT_MAX_BATCH = 100

/** One validated dispatch, from any trigger: HTTP, SQS, EventBridge or a schedule. */
export interface DispatchRequest {
  event: Dispatchable
  /** Undefined means every client (`['*']`). */
  recipients?: Recipient[]
  excluding?: Recipient[]
  /** The idempotency key the body carried, if any. */
  id?: string
}

/** A request body holds one dispatch, or a batch of them under `dispatches`. */
export type ParsedBody = { batch: false; requests: [DispatchRequest] } | { batch: true; requests: DispatchRequest[] }

/** Limits applied while parsing, so that oversized input fails with the field named. */
export interface RequestLimits {
  /** @default 10000 */
  maxRecipients?: number
  /** At most MAX_BATCH_LIMIT (1000), so that a batch item's `:<index>` id suffix fits. @default 100 */
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
  const maxRecipients = limits.maxRecipients ?? DEFAULT_MAX_RECIPIENTS
  const one = (value: unknown, path: string): DispatchRequest => parseDispatch(value, path, maxRecipients)
  return {
    parseOne: (value) => one(value, ''),
    parseBody(body) {
      const input = objectAt(body, '', 'must be a JSON object')
      if (!('dispatches' in input)) return { batch: false, requests: [one(input, '')] }
      rejectUnknown(input, BATCH_FIELDS, '')
      const list = input.dispatches
      if (!Array.isArray(list)) throw new ValidationError('dispatches', 'must be an array of dispatches')
      if (list.length === 0) throw new ValidationError('dispatches', 'must not be empty')
      if (list.length > maxBatch) throw new ValidationError('dispatches', `must hold at most ${maxBatch} dispatches`)
      return { batch: true, requests: list.map((each, index) => one(each, `dispatches[${index}]`)) }
    },
  }
}

const BATCH_FIELDS = new Set(['dispatches'])
const DISPATCH_FIELDS = new Set(['message', 'event', 'recipients', 'excluding', 'id'])
const MESSAGE_FIELDS = new Set(['op', 'd', 't', 'o'])
const OPTION_FIELDS = new Set(['sync'])

function parseDispatch(value: unknown, path: string, maxRecipients: number): DispatchRequest {
  const input = objectAt(value, path, 'must be a JSON object')
  const at = (field: string) => (path ? `${path}.${field}` : field)
  const message = 'message' in input ? parseMessage(input.message, at('message')) : undefined
  const action = 'event' in input ? parseEvent(input.event, at('event')) : undefined
  const recipients = 'recipients' in input ? assertRecipients(input.recipients, at('recipients'), maxRecipients) : undefined
  const excluding = 'excluding' in input ? assertRecipients(input.excluding, at('excluding'), maxRecipients) : undefined
  const id = 'id' in input ? assertWellFormed(parseString(input.id, at('id'), MAX_DISPATCH_ID_LENGTH, 1), at('id')) : undefined
  rejectUnknown(input, DISPATCH_FIELDS, path)
  if ((message === undefined) === (action === undefined)) throw new ValidationError(path || 'body', 'needs exactly one of message or event')
  const request: DispatchRequest = { event: message ?? action! }
  if (recipients) request.recipients = recipients
  if (excluding) request.excluding = excluding
  if (id !== undefined) request.id = id
  return request
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

function parseString(value: unknown, path: string, max: number, min: number): string {
  if (typeof value !== 'string') throw new ValidationError(path, 'must be a string')
  if (value.length < min) throw new ValidationError(path, 'must not be empty')
  if (value.length > max) throw new ValidationError(path, `must be at most ${max} characters`)
  return value
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
