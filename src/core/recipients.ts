import { ValidationError } from '../errors.js'
import { describe, type Recipient } from './message.js'

/** Whether a value is a recipient Mesa can match: a string or a finite number. */
export function isRecipient(value: unknown): value is Recipient {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))
}

/** Checks a recipient list and returns it unchanged; the error names the field and the bad position. */
export function assertRecipients(value: unknown, field: string, max: number): Recipient[] {
  if (!Array.isArray(value)) throw new ValidationError(field, `must be an array of strings or numbers, got ${describe(value)}`)
  if (value.length > max) throw new ValidationError(field, `must name at most ${max} recipients, got ${value.length}`)
  for (let i = 0; i < value.length; i++) {
    const each: unknown = value[i]
    // The field's name is built only for the recipient refused: a thousand ids would otherwise build a thousand names.
    if (typeof each === 'string') {
      if (LONE_SURROGATE.test(each)) assertWellFormed(each, `${field}[${i}]`)
    } else if (!isRecipient(each)) {
      throw new ValidationError(`${field}[${i}]`, `must be a string or a finite number, got ${describe(each)}`)
    }
  }
  return value as Recipient[]
}

/**
 * Checks the ids of a question about clients (presence, backlogs) as a dispatch's recipients are checked, and
 * refuses `'*'`, which in a dispatch means every client and names none.
 */
export function assertClientIds(value: unknown, field: string, max: number): Recipient[] {
  const ids = assertRecipients(value, field, max)
  const wildcard = ids.indexOf('*')
  if (wildcard >= 0) throw new ValidationError(`${field}[${wildcard}]`, `must name a client: '*' means every client in a dispatch, and names none`)
  return ids
}

/** Checks one client id as `assertClientIds` checks each. */
export function assertClientId(value: unknown, field: string): Recipient {
  if (!isRecipient(value)) throw new ValidationError(field, `must be a string or a finite number, got ${describe(value)}`)
  if (value === '*') throw new ValidationError(field, `must name a client: '*' means every client in a dispatch, and names none`)
  if (typeof value === 'string') assertWellFormed(value, field)
  return value
}

/**
 * A surrogate without its pair. The regex is used even where `String.prototype.isWellFormed` exists (Node 20 and
 * workerd both have it), so that the one code path is the one every test runs.
 */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

/**
 * Refuses ill-formed UTF-16: Redis gets UTF-8, where every lone surrogate becomes U+FFFD, so two different ids
 * (`'\ud800'` and `'\udbff'`) would share one hash field or one dedupe key.
 */
export function assertWellFormed(value: string, field: string): string {
  if (LONE_SURROGATE.test(value)) throw new ValidationError(field, 'must be well-formed UTF-16, without a lone surrogate')
  return value
}

/**
 * Removes excluded ids the way Mesa does (`excluding.indexOf(r) === -1`, strict equality), so `'*'` stays
 * unless `'*'` itself is excluded, and a global dispatch still reaches the excluded clients.
 */
export function applyExcluding(recipients: Recipient[], excluding: Recipient[] | undefined): Recipient[] {
  if (!excluding || excluding.length === 0) return recipients
  // A Set compares like === for strings and finite numbers (only NaN differs, and NaN is refused above).
  const excluded = new Set<Recipient>(excluding)
  return recipients.filter((recipient) => !excluded.has(recipient))
}
