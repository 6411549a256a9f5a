import { ValidationError } from '../errors.js'
import { MAX_DISPATCH_ID_LENGTH } from '../limits.js'
import { type Dispatchable, isDispatchable } from './message.js'
import { applyExcluding, assertRecipients, assertWellFormed } from './recipients.js'
import type { DispatchOptions, Recipient } from './types.js'

/** One dispatch of `dispatchMany`: what `dispatch` takes, as one object. */
export interface DispatchInput {
  event: Dispatchable
  /** @default ['*'] (every client) */
  recipients?: Recipient[]
  excluding?: Recipient[]
  options?: DispatchOptions
}

/** A dispatch whose every value was checked: who it goes to, and the id it is remembered by. */
export interface CheckedDispatch {
  readonly event: Dispatchable
  /** The recipients minus the excluded ones, as Mesa filters them. */
  readonly targets: Recipient[]
  /** Whether `excluding` named ids that a `'*'` among the recipients reaches all the same. */
  readonly excludingIgnored: boolean
  readonly id?: string
  readonly ttlSeconds?: number
}

/**
 * Checks one dispatch's values: the only place they are checked, for every caller alike (a library call, an HTTP
 * body, an SQS record, an EventBridge event), which hand them over as they came. Throws a ValidationError naming
 * the field (`recipients[3]`, `id`), and returns the targets Mesa's exclusion leaves.
 */
export function checkDispatch(input: DispatchInput, maxRecipients: number): CheckedDispatch {
  const { event, recipients = ['*'], excluding, options = {} } = input
  if (!isDispatchable(event)) throw new ValidationError('event', 'must be a Message or DispatchEvent from this package')
  const named = assertRecipients(recipients, 'recipients', maxRecipients)
  const excluded = excluding === undefined ? undefined : assertRecipients(excluding, 'excluding', maxRecipients)
  const { id, ttlSeconds } = checkOptions(options)
  const targets = applyExcluding(named, excluded)
  const excludingIgnored = excluded !== undefined && excluded.length > 0 && targets.includes('*')
  return { event, targets, excludingIgnored, ...(id === undefined ? {} : { id }), ...(ttlSeconds === undefined ? {} : { ttlSeconds }) }
}

/** Checks a call's id and its TTL, for a dispatch or a question alike; throws a ValidationError naming `id` or `ttlSeconds`. */
export function checkOptions(options: DispatchOptions): DispatchOptions {
  const { id, ttlSeconds } = options
  if (id !== undefined && (typeof id !== 'string' || id.length === 0 || id.length > MAX_DISPATCH_ID_LENGTH)) {
    throw new ValidationError('id', `must be a non-empty string of at most ${MAX_DISPATCH_ID_LENGTH} characters`)
  }
  if (id !== undefined) assertWellFormed(id, 'id')
  if (ttlSeconds !== undefined && (!Number.isSafeInteger(ttlSeconds) || ttlSeconds <= 0)) {
    throw new ValidationError('ttlSeconds', 'must be a positive integer')
  }
  return options
}
