import { BacklogChangedError, BacklogTooLargeError, IdempotencyConflictError } from '../errors.js'
import { BACKLOG_RANGE_BYTES, BACKLOG_READ_ATTEMPTS, CALL_KEY_TTL_SECONDS, CLEAR_COUNT_BYTES } from '../limits.js'
import { BACKLOG_SCRIPT, CLEAR_SCRIPT } from '../script/scripts.js'
import { checkLimit, cutPage, ownerOf, parseCursor } from './backlog-page.js'
import { unexpectedReply } from './presence.js'
import { ask, chargeArgs, claimOf, memberOf, type QuestionContext } from './question.js'
import { assertClientId, assertClientIds } from './recipients.js'
import type { BacklogMessage, BacklogOptions, BacklogResult, ClearBacklogResult, ClearedBacklog, DispatchOptions, Recipient } from './types.js'

/**
 * One page of what waits for one client in Mesa's offline store: the messages exactly as Mesa would redeliver them
 * at the client's next login, without the `s` it adds, as many as `options.limit` and `maxBacklogPageBytes` allow,
 * from the point `options.cursor` (the page before's) names. Every page reads the whole value with HGET (atomic, so
 * a dispatch landing meanwhile is in it wholly or not at all, and `total` counts what Mesa would redeliver now), in
 * one script call, or in ranges of BACKLOG_RANGE_BYTES for a larger value; a `rateLimit` counts the page once. A
 * number id reads the field of its decimal string, as Mesa's login does. Throws a ValidationError for a bad `limit`
 * or `cursor`, before any request; a BacklogChangedError when the backlog changed under the cursor (see
 * backlog-page.ts); a BacklogTooLargeError for a value over `maxBacklogReadBytes` or a message over a page.
 */
export async function readBacklog(context: QuestionContext, id: Recipient, options: BacklogOptions = {}): Promise<BacklogResult> {
  const member = memberOf(assertClientId(id, 'recipient'))
  const owner = ownerOf(context.keys.undeliveredMessages, member)
  const limit = checkLimit(options.limit)
  const cursor = parseCursor(options.cursor, owner)
  const { text, bytes } = await readValue(context, member, options)
  return cutPage(redeliveredMessages(text), bytes, { cursor, limit, pageBytes: context.maxBacklogPageBytes, owner })
}

/**
 * The stored value of `member` and its size in bytes: one call when it fits in a range, else a call per range, all
 * of one version of it; read again from its start, up to BACKLOG_READ_ATTEMPTS times, when it changed between two.
 * Only the first call carries the charge.
 */
async function readValue(context: QuestionContext, member: string, options: BacklogOptions): Promise<{ text: string; bytes: number }> {
  const charged = chargeArgs(context, options)
  const keys = [context.keys.undeliveredMessages, ...charged.keys]
  let charge = charged.args[0]
  for (let attempt = 0; attempt < BACKLOG_READ_ATTEMPTS; attempt++) {
    const ranges: string[] = []
    let from = 0
    let version = ''
    let bytes = 0
    do {
      const bound = String(context.maxBacklogReadBytes)
      const reply = await ask(context, BACKLOG_SCRIPT, keys, [member, charge, bound, String(from), String(BACKLOG_RANGE_BYTES), version])
      charged.refused(reply)
      charge = ''
      if (typeof reply === 'string' && /^b\d+$/.test(reply)) throw valueTooLarge(Number(reply.slice(1)), context.maxBacklogReadBytes)
      // Gone or rewritten since the ranges before: the read starts again.
      if (reply === 'v' || (from > 0 && Array.isArray(reply) && reply.length === 0)) break
      if (!Array.isArray(reply)) throw unexpectedReply('backlog')
      if (reply.length === 0) return { text: '', bytes: 0 }
      const [size, current, range, end] = reply as unknown[]
      if (typeof size !== 'number' || typeof current !== 'string' || typeof range !== 'string' || typeof end !== 'number' || end <= from) {
        throw unexpectedReply('backlog')
      }
      ranges.push(range)
      from = end
      version = current
      bytes = size
    } while (from < bytes)
    if (bytes > 0 && from >= bytes) return { text: ranges.join(''), bytes }
  }
  throw new BacklogChangedError(`the backlog changed while it was read, ${BACKLOG_READ_ATTEMPTS} times over: read it again`)
}

function valueTooLarge(bytes: number, limit: number): BacklogTooLargeError {
  return new BacklogTooLargeError(
    'MAX_BACKLOG_READ_BYTES',
    limit,
    bytes,
    `the backlog is ${bytes} bytes, more than MAX_BACKLOG_READ_BYTES (${limit}) lets one read take from Redis: raise it to read it, or clear the backlog`,
  )
}

/**
 * The messages Mesa 1.5.8's server sends for a stored value at login (`Client.redeliverUndeliverableMessages`):
 * it parses the value, rebuilds each message from its `op`, `d` and `t` alone, and sends them in order. A value
 * it cannot read (not JSON, not an array, a null message) makes it send nothing, so none are listed for it.
 */
export function redeliveredMessages(value: string): BacklogMessage[] {
  // Mesa tests the value for truth before parsing it, so an empty value holds no messages.
  if (value === '') return []
  let parsed: unknown
  try {
    parsed = JSON.parse(value)
  } catch {
    return []
  }
  if (!Array.isArray(parsed) || parsed.some((message) => message === null)) return []
  return parsed.map((message: { op?: unknown; d?: unknown; t?: unknown }) => {
    // Read as Mesa's `new Message(message.op, message.d, message.t)` reads them, from any JSON value, in the
    // order its frame has them; JSON.stringify, which writes the frame, leaves out what is undefined.
    const { op, d, t } = message
    const frame: Record<string, unknown> = {}
    if (op !== undefined) frame.op = op
    if (d !== undefined) frame.d = d
    if (t !== undefined) frame.t = t
    return frame as unknown as BacklogMessage
  })
}

/**
 * Removes the backlogs of `ids` and our index entries of them in one atomic script call, so that a dispatch that
 * lands meanwhile finds each backlog whole or gone, never half, and a login after it redelivers nothing (a login
 * that already read the backlog, in the two commands Mesa's takes, redelivers what it read). Resolves with how
 * many messages and bytes each held. An `id` in `options` is remembered as a dispatch's is, in the clears' own space:
 * the same id for the same ids again inside its window removes nothing and answers `duplicate: true`, and for other
 * ids throws an IdempotencyConflictError, having removed nothing. A `rateLimit` counts the clear,
 * in the same call.
 */
export async function clearBacklog(context: QuestionContext, ids: Recipient[], options: DispatchOptions = {}): Promise<ClearBacklogResult> {
  const named = assertClientIds(ids, 'recipients', context.maxRecipients)
  const claim = claimOf(context, options, JSON.stringify(named))
  if (named.length === 0) return { cleared: [], duplicate: false }
  const { keys } = context
  const charged = chargeArgs(context, options)
  const reply = await ask(
    context,
    CLEAR_SCRIPT,
    [keys.callKey(), keys.undeliveredMessages, keys.backlogs, ...charged.keys, ...(claim ? [claim.key] : [])],
    [String(CALL_KEY_TTL_SECONDS), claim?.spec ?? '', String(CLEAR_COUNT_BYTES), ...charged.args, ...named.map(memberOf)],
  )
  charged.refused(reply)
  if (reply === 'c') throw new IdempotencyConflictError(claim!.id)
  if (reply === 'd') return { cleared: named.map((recipient) => ({ recipient, messages: 0, bytes: 0 })), duplicate: true }
  const lines = typeof reply === 'string' ? reply.split(',') : []
  if (lines.length !== named.length) throw unexpectedReply('clear')
  const cleared = lines.map((line, index): ClearedBacklog => {
    const counted = /^(\d*):(\d+)$/.exec(line)
    if (!counted) throw unexpectedReply('clear')
    return { recipient: named[index]!, messages: counted[1] === '' ? null : Number(counted[1]), bytes: Number(counted[2]) }
  })
  return { cleared, duplicate: false }
}
