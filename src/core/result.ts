import { RECIPIENT_STATE } from '../script/protocol.js'
import type { DispatchResult, Recipient } from './types.js'

/** A result that reached no recipient yet, which the parts of a dispatch are merged into. */
export function emptyResult(checked: boolean, excludingIgnored: boolean): DispatchResult {
  return { servers: 0, recipients: [], online: checked ? [] : null, offline: [], unstored: [], stored: 0, dropped: 0, duplicate: true, excludingIgnored }
}

/** The part of a script's outcome that reached `recipients`, mapped back onto them, merged into `result`. */
export function addPart(
  result: DispatchResult,
  recipients: readonly Recipient[],
  part: { servers: number; stored: number; dropped: number; states: string },
  checked: boolean,
): void {
  result.servers = Math.max(result.servers, part.servers)
  result.stored += part.stored
  result.dropped += part.dropped
  result.duplicate = false
  if (!checked) {
    for (const recipient of recipients) result.recipients.push(recipient)
    return
  }
  const { states } = part
  for (let i = 0; i < states.length; i++) {
    const recipient = recipients[i]!
    const state = states[i]
    if (state === RECIPIENT_STATE.stored || state === RECIPIENT_STATE.unstored) {
      result.offline.push(recipient)
      if (state === RECIPIENT_STATE.unstored) result.unstored.push(recipient)
      continue
    }
    result.recipients.push(recipient)
    if (state === RECIPIENT_STATE.online) result.online!.push(recipient)
  }
}

/** A merged result is final: one that no part applied is a duplicate, with nothing checked. */
export function finishResult(result: DispatchResult): DispatchResult {
  if (result.duplicate) result.online = null
  return result
}
