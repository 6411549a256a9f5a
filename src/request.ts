import * as v from 'valibot'
import { MAX_DISPATCH_ID_LENGTH } from './dispatcher'
import { ValidationError } from './errors'
import { DISPATCH_ACTIONS, DispatchEvent, Message, type Dispatchable, type Recipient } from './message'
import { DEFAULT_MAX_RECIPIENTS } from './recipients'

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
  /** @default 100 */
  maxBatch?: number
}

function recipientList(max: number) {
  return v.pipe(
    v.array(
      v.union([v.string(), v.pipe(v.number(), v.finite('must be a string or a finite number'))], 'must be a string or a finite number'),
      'must be an array of strings or numbers',
    ),
    v.maxLength(max, `must name at most ${max} recipients`),
  )
}

function dispatchSchema(maxRecipients: number) {
  const message = v.strictObject(
    {
      op: v.optional(v.pipe(v.number('must be a number'), v.safeInteger('must be an integer'), v.minValue(0, 'must not be negative')), 0),
      d: v.unknown(),
      t: v.optional(v.pipe(v.string('must be a string'), v.maxLength(MAX_TYPE_LENGTH, `must be at most ${MAX_TYPE_LENGTH} characters`))),
      o: v.optional(v.strictObject({ sync: v.optional(v.boolean('must be a boolean')) }, 'must be an object')),
    },
    'must be an object',
  )
  return v.pipe(
    v.strictObject(
      {
        message: v.optional(message),
        event: v.optional(v.picklist(DISPATCH_ACTIONS, `must be one of ${DISPATCH_ACTIONS.join(', ')}`)),
        recipients: v.optional(recipientList(maxRecipients)),
        excluding: v.optional(recipientList(maxRecipients)),
        id: v.optional(
          v.pipe(
            v.string('must be a string'),
            v.minLength(1, 'must not be empty'),
            v.maxLength(MAX_DISPATCH_ID_LENGTH, `must be at most ${MAX_DISPATCH_ID_LENGTH} characters`),
          ),
        ),
      },
      'must be a JSON object',
    ),
    v.check((input) => (input.message === undefined) !== (input.event === undefined), 'needs exactly one of message or event'),
  )
}

/** Parses untrusted JSON values into dispatch requests, throwing a ValidationError that names the field. */
export interface RequestParser {
  /** An HTTP body: one dispatch, or `{ "dispatches": [...] }` of at most `maxBatch`. */
  parseBody(body: unknown): ParsedBody
  /** Exactly one dispatch, as an SQS record body or an EventBridge detail carries. */
  parseOne(value: unknown): DispatchRequest
}

/** Builds the parser with its limits, once per app or function. */
export function createRequestParser(limits: RequestLimits = {}): RequestParser {
  const maxBatch = limits.maxBatch ?? DEFAULT_MAX_BATCH
  const single = dispatchSchema(limits.maxRecipients ?? DEFAULT_MAX_RECIPIENTS)
  const batch = v.strictObject({
    dispatches: v.pipe(
      v.array(single, 'must be an array of dispatches'),
      v.minLength(1, 'must not be empty'),
      v.maxLength(maxBatch, `must hold at most ${maxBatch} dispatches`),
    ),
  })
  const parseOne = (value: unknown) => toRequest(parseWith(single, assertObject(value)))
  return {
    parseOne,
    parseBody(body) {
      if ('dispatches' in assertObject(body)) return { batch: true, requests: parseWith(batch, body).dispatches.map(toRequest) }
      return { batch: false, requests: [parseOne(body)] }
    },
  }
}

function assertObject(value: unknown): object {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ValidationError('body', 'must be a JSON object')
  return value
}

type Parsed = v.InferOutput<ReturnType<typeof dispatchSchema>>

function toRequest(input: Parsed): DispatchRequest {
  const event = input.message ? buildMessage(input.message) : new DispatchEvent(input.event!)
  const request: DispatchRequest = { event }
  if (input.recipients) request.recipients = input.recipients
  if (input.excluding) request.excluding = input.excluding
  if (input.id !== undefined) request.id = input.id
  return request
}

function buildMessage(message: NonNullable<Parsed['message']>): Message {
  return new Message(message.op, message.d, message.t, message.o)
}

function parseWith<TSchema extends v.GenericSchema>(schema: TSchema, input: unknown): v.InferOutput<TSchema> {
  const result = v.safeParse(schema, input, { abortEarly: true })
  if (result.success) return result.output
  const issue = result.issues[0]
  const path = issue.path ?? []
  // valibot takes an array for an object with missing keys; name the array instead of a key it lacks.
  if (issue.type === 'strict_object' && Array.isArray(path[path.length - 1]?.input)) {
    throw new ValidationError(fieldOf(path.slice(0, -1)), 'must be a JSON object')
  }
  throw new ValidationError(fieldOf(path), problemOf(issue))
}

/** `dispatches[2].recipients[0]` from valibot's path, or `body` at the root. */
function fieldOf(path: v.IssuePathItem[]): string {
  let field = ''
  for (const item of path) {
    field += typeof item.key === 'number' ? `[${item.key}]` : field === '' ? String(item.key) : `.${String(item.key)}`
  }
  return field || 'body'
}

function problemOf(issue: v.BaseIssue<unknown>): string {
  if (issue.type === 'strict_object' && issue.kind === 'schema' && issue.path) {
    if (issue.expected === 'never') return 'is not a known field'
    if (issue.received === 'undefined') return 'is required'
  }
  return issue.message
}
