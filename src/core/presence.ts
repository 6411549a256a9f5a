import { RedisCommandError } from '../errors.js'
import { PRESENCE_SCRIPT } from '../script/scripts.js'
import { ask, chargeArgs, memberOf, type QuestionContext } from './question.js'
import { assertClientIds } from './recipients.js'
import type { PresenceResult, RateLimitOptions, Recipient } from './types.js'

/**
 * Which of `ids` are in Mesa's online set (`connected_clients[_ns]`), in one script call: the same check a
 * dispatch makes. Mesa's set holds strings, and its servers add a number id as its decimal string, so the
 * number 7 is online when the client 7 or the client '7' is logged in; each id is answered as given, in order,
 * once for each time it is named. A `rateLimit` in `options` counts the question, in the same call.
 */
export async function checkPresence(context: QuestionContext, ids: Recipient[], options: RateLimitOptions = {}): Promise<PresenceResult> {
  const named = assertClientIds(ids, 'recipients', context.maxRecipients)
  const result: PresenceResult = { online: [], offline: [] }
  if (named.length === 0) return result
  const { keys, args, refused } = chargeArgs(context, options)
  const reply = await ask(context, PRESENCE_SCRIPT, [context.keys.connectedClients, ...keys], [...args, ...named.map(memberOf)])
  refused(reply)
  if (typeof reply !== 'string' || !/^[01]*$/.test(reply) || reply.length !== named.length) throw unexpectedReply('presence')
  for (const [index, id] of named.entries()) (reply[index] === '1' ? result.online : result.offline).push(id)
  return result
}

/** How many client ids Mesa's online set holds (SCARD): the distinct ids logged in on every server. */
export async function countConnected(context: QuestionContext, options: RateLimitOptions = {}): Promise<number> {
  const { keys, args, refused } = chargeArgs(context, options)
  const reply = await ask(context, PRESENCE_SCRIPT, [context.keys.connectedClients, ...keys], args)
  refused(reply)
  if (typeof reply !== 'number' || !Number.isSafeInteger(reply) || reply < 0) throw unexpectedReply('presence')
  return reply
}

/** The error for a reply no script of this package gives: a Redis that is not what it seems. */
export const unexpectedReply = (script: string) => new RedisCommandError(`the ${script} script returned an unexpected reply`)
