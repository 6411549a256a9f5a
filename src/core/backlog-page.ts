import { BacklogChangedError, BacklogTooLargeError, ValidationError } from '../errors.js'
import { BACKLOG_PAGE_ENVELOPE_BYTES, MAX_BACKLOG_PAGE_BYTES_LIMIT } from '../limits.js'
import { fingerprintOf } from './fingerprint.js'
import type { BacklogMessage, BacklogResult } from './types.js'

// One page of a backlog, and the cursor that reads the next one. A cursor says where the next page starts (after
// how many messages) and carries the fingerprint of the messages before that point: the next page goes on only
// while those are still the backlog's first messages, byte for byte as Mesa would redeliver them. A dispatch that
// appends keeps them, so paging goes on and reaches the new messages too; a login or a clear that removed the
// backlog, or caps that dropped its oldest messages, change them, and the next page is refused (BacklogChangedError)
// rather than repeating or skipping a message. The pages of one read are then exactly the messages of the backlog
// as its last page found it, each once, in order.

/** Where the next page starts: after `index` messages, whose fingerprint is `prefix`, of the backlog `owner` names. */
interface Cursor {
  readonly index: number
  readonly owner: string
  readonly prefix: string
}

/** A cursor as this module writes it: a version, the index, the owner's tag and the prefix's fingerprint. */
const CURSOR = /^1\.([1-9]\d{0,14})\.([0-9a-f]{8})\.([0-9a-f]{32})$/

const CURSOR_ADVICE = 'must be the cursor a previous page of this backlog answered, or null for the first page'

/**
 * The tag of one backlog, its hash (namespace included) and field: a cursor of another backlog is a mistake of the
 * caller's (400), not a backlog that changed (409), and the two must be told apart before any prefix is compared.
 */
export function ownerOf(hash: string, member: string): string {
  return fingerprintOf(['backlog', hash, member]).slice(0, 8)
}

/** Checks a page's `limit`: a whole number of at least 1, or none (as many messages as fit in a page). */
export function checkLimit(limit: unknown): number {
  if (limit === undefined || limit === null) return Number.POSITIVE_INFINITY
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1) throw new ValidationError('limit', 'must be a whole number of at least 1')
  return limit
}

/** Reads a page's `cursor` for the backlog `owner` names; none (or null) for the first page. Throws a ValidationError naming `cursor`. */
export function parseCursor(cursor: unknown, owner: string): Cursor | undefined {
  if (cursor === undefined || cursor === null) return undefined
  if (typeof cursor !== 'string')
    throw new ValidationError('cursor', `${CURSOR_ADVICE}, not a value of type ${Array.isArray(cursor) ? 'array' : typeof cursor}`)
  const parts = CURSOR.exec(cursor)
  if (!parts) throw new ValidationError('cursor', CURSOR_ADVICE)
  if (parts[2] !== owner) throw new ValidationError('cursor', `belongs to another recipient's backlog (or namespace): it ${CURSOR_ADVICE}`)
  return { index: Number(parts[1]), owner, prefix: parts[3]! }
}

/** What a page is cut by: where it starts, the most messages, its bytes, and whose backlog it is. */
export interface PageBounds {
  readonly cursor: Cursor | undefined
  readonly limit: number
  readonly pageBytes: number
  readonly owner: string
}

const encoder = new TextEncoder()

/**
 * The page of `messages` (the whole backlog, `bytes` as stored) that `bounds` asks for: from the cursor's point,
 * as many messages as `limit` and `pageBytes` allow, at least one. Throws a BacklogChangedError when the messages
 * before the cursor are not the ones it was given after, and a BacklogTooLargeError when one message alone is
 * larger than a page.
 */
export function cutPage(messages: BacklogMessage[], bytes: number, bounds: PageBounds): BacklogResult {
  const { cursor, limit, pageBytes, owner } = bounds
  const texts: string[] = []
  const textOf = (index: number) => (texts[index] ??= JSON.stringify(messages[index]))
  const start = cursor?.index ?? 0
  if (cursor && (start > messages.length || prefixOf(textOf, start) !== cursor.prefix)) {
    throw new BacklogChangedError(
      `the backlog changed since this cursor was given: its first ${start} messages are no longer the ones the pages before listed (a login delivered it, a clear removed it, or the caps dropped its oldest messages); read it again from the first page`,
      'cursor',
    )
  }
  // The messages' JSON array: its brackets, each message and the commas between them.
  const room = pageBytes - BACKLOG_PAGE_ENVELOPE_BYTES
  let used = 2
  let end = start
  while (end < messages.length && end - start < limit) {
    const size = encoder.encode(textOf(end)).byteLength + (end > start ? 1 : 0)
    if (used + size > room) {
      if (end === start) throw pageTooSmall(end, size, pageBytes)
      break
    }
    used += size
    end++
  }
  const more = end < messages.length
  return {
    messages: messages.slice(start, end),
    count: end - start,
    bytes,
    total: messages.length,
    cursor: more ? `1.${end}.${owner}.${prefixOf(textOf, end)}` : null,
    truncated: more,
  }
}

/** The fingerprint of the first `count` messages, each as its JSON. */
function prefixOf(textOf: (index: number) => string, count: number): string {
  return fingerprintOf(Array.from({ length: count }, (_, index) => textOf(index)))
}

function pageTooSmall(index: number, size: number, pageBytes: number): BacklogTooLargeError {
  return new BacklogTooLargeError(
    'MAX_BACKLOG_PAGE_BYTES',
    pageBytes,
    size + 2 + BACKLOG_PAGE_ENVELOPE_BYTES,
    `message ${index + 1} of the backlog is ${size} bytes as Mesa would redeliver it, more than a page of MAX_BACKLOG_PAGE_BYTES (${pageBytes}) holds beside the answer's other fields: raise it (at most ${MAX_BACKLOG_PAGE_BYTES_LIMIT}) to read it, or clear the backlog`,
  )
}
