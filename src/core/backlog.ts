import { IdempotencyConflictError } from '../errors.js'
import { CALL_KEY_TTL_SECONDS, CLEAR_COUNT_BYTES } from '../limits.js'
import { BACKLOG_SCRIPT, CLEAR_SCRIPT } from '../script/scripts.js'
import { unexpectedReply } from './presence.js'
import { ask, chargeArgs, claimOf, memberOf, type QuestionContext } from './question.js'
import { assertClientId, assertClientIds } from './recipients.js'
import type { BacklogMessage, BacklogResult, ClearBacklogResult, ClearedBacklog, DispatchOptions, RateLimitOptions, Recipient } from './types.js'

/**
 * What waits for one client in Mesa's offline store, read with one HGET (atomic, so a dispatch landing meanwhile
 * is in it wholly or not at all): the messages exactly as Mesa would redeliver them at the client's next login,
 * without the `s` it adds. A number id reads the field of its decimal string, as Mesa's login does.
 */
export async function readBacklog(context: QuestionContext, id: Recipient, options: RateLimitOptions = {}): Promise<BacklogResult> {
  const named = assertClientId(id, 'recipient')
  const { keys, args, refused } = chargeArgs(context, options)
  const reply = await ask(context, BACKLOG_SCRIPT, [context.keys.undeliveredMessages, ...keys], [memberOf(named), ...args])
  refused(reply)
  if (!Array.isArray(reply)) throw unexpectedReply('backlog')
  if (reply.length === 0) return { messages: [], count: 0, bytes: 0 }
  const [bytes, value] = reply as unknown[]
  if (typeof bytes !== 'number' || typeof value !== 'string') throw unexpectedReply('backlog')
  const messages = redeliveredMessages(value)
  return { messages, count: messages.length, bytes }
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
